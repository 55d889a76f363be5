//! Benchmarks of pure cse-core work (parsing and validation).

use criterion::{Criterion, criterion_group, criterion_main};

fn version(c: &mut Criterion) {
    c.bench_function("cse_version_len", |b| {
        b.iter(|| cse_core::CSE_VERSION.len())
    });
}

criterion_group!(benches, version);
criterion_main!(benches);
