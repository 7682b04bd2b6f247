//! The runtime: executor, journal, drivers. See ARCHITECTURE.md.
