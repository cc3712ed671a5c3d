//! Composer versions: tag names, normalization, stability and ordering.
