//! The one integration-test binary.
mod fmt;
