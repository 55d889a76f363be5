//! Names CSE gives to things: node VM names, vApp metadata keys, cluster-name rules.
