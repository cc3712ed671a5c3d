//! Git repositories read in-process: mirrors, refs, files at a commit, reproducible zips.
