//! STUB (being written).
/// The layer.
#[derive(Debug)]
pub struct TickProfiler {}
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for TickProfiler {}
