//! STUB: the ResourceProfiler (issue #3).
