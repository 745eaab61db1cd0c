//! The bakery's authenticated `fn.myShift` through `Server::process`, in process: the
//! protocol's share of what `bench/http.sh` measures over HTTP (auth hook, identity
//! middleware and log, typed handler), with and without a `fmt` subscriber at `info`
//! as the binary installs one when stderr is not a terminal. Prints the heap
//! allocations one call makes.

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../runtime/benches/support/measure.rs"]
mod measure;

#[global_allocator]
static GLOBAL: measure::Counting = measure::Counting;

const MY_SHIFT: &[u8] =
    br#"[{"@auth_":{"Password":{"username":"lead-baker","password":"opensesame"}}},{"fn.myShift":{}}]"#;

fn my_shift(c: &mut Criterion) {
    let server = telepact_bakery::server().expect("the bakery's server builds");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime starts");
    let _entered = runtime.enter();
    let call = || measure::run(server.process(MY_SHIFT));
    assert!(call().bytes.starts_with(br#"[{},{"Ok_""#));

    let mut group = c.benchmark_group("myShift");
    group.bench_function("no subscriber", |b| b.iter(call));
    report("no subscriber", measure::per_call(call));

    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("fmt subscriber at info", |b| b.iter(call));
        report("fmt subscriber at info", measure::per_call(call));
    });
    group.finish();
    telepact_bakery::identity_log::flush();
}

fn report(label: &str, allocations: u64) {
    println!("myShift, {label}: {allocations} allocations per call");
}

criterion_group!(benches, my_shift);
criterion_main!(benches);
