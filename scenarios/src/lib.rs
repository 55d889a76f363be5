//! Scenario files and their runner: replay install, cluster lifecycle, scale,
//! shutdown and fault scenarios against the in-process simulator or a live vCD.
