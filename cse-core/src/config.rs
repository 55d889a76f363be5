//! The `config.yaml` model (original 1.2.x keys plus optional new sections),
//! its validation and the `cse sample` output.
