//! Adding tickprof changes nothing another layer sees: the fmt output of one program is
//! byte-identical without tickprof, with tickprof idle, and while profiling (sampled and
//! full), for fmt behind a per-layer `EnvFilter` (the README's stack) and for a plain fmt
//! layer that logs span entries and exits at info level (so every span it wants must exist,
//! and no span only tickprof wants may show).

use std::io::Write;
use std::sync::{Arc, Mutex};

use tickprof::{MetricsCollector, Sampling};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{EnvFilter, Registry};

/// A writer into a shared buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// The program: ticks with components and events at every level, spans outside ticks,
/// a `parent: None` span inside a tick, a debug span.
fn program() {
    let _session = tracing::info_span!("session", id = 7).entered();
    tracing::warn!("starting");
    for i in 0..300u64 {
        let _tick = tracing::info_span!("tick", seq = i).entered();
        {
            let _parse = tracing::info_span!("parse").entered();
            if i % 100 == 0 {
                tracing::warn!(i, "slow line");
            }
            tracing::info!(i, "parsed");
            tracing::debug!("detail");
        }
        {
            let _noise = tracing::debug_span!("noise").entered();
            tracing::error!(i, "inside a debug span");
        }
        if i % 50 == 0 {
            let _root = tracing::info_span!(parent: None, "audit").entered();
            tracing::warn!("audited");
        }
    }
    tracing::warn!("done");
}

#[derive(Clone, Copy, Debug)]
enum Profiler {
    Absent,
    Idle,
    Sampled,
    Full,
}

fn fmt_output(stack: u8, profiler: Profiler) -> String {
    let buffer = Buffer::default();
    let fmt = || {
        tracing_subscriber::fmt::layer()
            .with_writer(buffer.clone())
            .without_time()
            .with_ansi(false)
            .with_thread_ids(false)
    };
    let fmt: Box<dyn tracing_subscriber::Layer<Registry> + Send + Sync> = match stack {
        // The README's stack: fmt behind a per-layer EnvFilter.
        0 => fmt().with_filter(EnvFilter::new("warn")).boxed(),
        // A plain fmt layer at info level that logs span entries and exits.
        _ => fmt()
            .with_span_events(FmtSpan::NEW | FmtSpan::ENTER | FmtSpan::EXIT)
            .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
            .boxed(),
    };
    let sampling = match profiler {
        Profiler::Full => Sampling::full(),
        _ => Sampling::default(),
    };
    let collector = MetricsCollector::builder()
        .sampling(sampling)
        .without_resource_sampling()
        .build()
        .unwrap();
    match profiler {
        Profiler::Absent => {
            tracing::subscriber::with_default(tracing_subscriber::registry().with(fmt), program)
        }
        _ => {
            let subscriber = tracing_subscriber::registry()
                .with(fmt)
                .with(collector.layer());
            tracing::subscriber::with_default(subscriber, || {
                let profiling = !matches!(profiler, Profiler::Idle);
                if profiling {
                    collector.start_profiling("unchanged").unwrap();
                }
                program();
                if profiling {
                    let report = collector.stop_profiling().unwrap();
                    assert_eq!(report.ticks.count, 300, "{profiler:?}");
                }
            })
        }
    }
    buffer.text()
}

#[test]
fn fmt_output_is_byte_identical_with_tickprof_idle_and_profiling() {
    for stack in [0, 1] {
        let reference = fmt_output(stack, Profiler::Absent);
        assert!(reference.contains("slow line"), "{reference}");
        if stack == 1 {
            // fmt names the event's target: this module's path.
            let entered = format!("tick{{seq=299}}: {}: enter", module_path!());
            assert!(reference.contains(&entered), "{reference}");
        }
        for profiler in [Profiler::Idle, Profiler::Sampled, Profiler::Full] {
            let output = fmt_output(stack, profiler);
            assert!(
                output == reference,
                "stack {stack}, tickprof {profiler:?}: output differs\n--- without tickprof\n{}\n--- with\n{}",
                &reference[..reference.len().min(2_000)],
                &output[..output.len().min(2_000)]
            );
        }
    }
}
