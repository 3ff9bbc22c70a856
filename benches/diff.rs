//! `cargo bench --bench diff`: the pull-request path on a generated workload
//! (SPEC §11): one tenant file changes (a new user with a role, and an
//! existing assignment moved to the tenant's root org); load both
//! revisions, run the change check by that tenant, and compute the access
//! diff. Generate the tiers first (see benches/decisions.rs).

use std::path::{Path, PathBuf};
use std::time::Instant;

use trellis::revision::SetSource;

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if !entry.file_name().to_string_lossy().ends_with(".jsonl") {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn main() {
    let root = std::env::var_os("TRELLIS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench"));
    println!("| tier | files | load base + head | change check | access diff | total | E012 | users changed |");
    println!("|---|---|---|---|---|---|---|---|");
    for tier in ["S", "M", "L"] {
        let base = root.join(tier);
        let tenant = base.join("tenants/c1.yaml");
        if !tenant.exists() {
            eprintln!("skipping tier {tier}: generate it into {}", base.display());
            continue;
        }
        let head = root.join(format!("{tier}-head"));
        let _ = std::fs::remove_dir_all(&head);
        if let Err(e) = copy_dir(&base, &head) {
            eprintln!("tier {tier}: cannot copy: {e}");
            continue;
        }
        // The change: c1 adds a user with a role, and moves one of its
        // assignments up to its root org (the diff must show every org it now reaches).
        let text = std::fs::read_to_string(&tenant).unwrap_or_default();
        let mut changed = text.replacen("users:\n", "users:\n  bench-new-user: { org: c1 }\n", 1);
        if let Some(line) = changed
            .lines()
            .find(|l| l.contains("{ role:") && l.contains("org: c1-"))
            .map(str::to_owned)
        {
            let org = line
                .split("org: ")
                .nth(1)
                .and_then(|r| r.split([',', ' ', '}']).next())
                .unwrap_or("")
                .to_owned();
            changed = changed.replacen(
                &line,
                &line.replacen(&format!("org: {org}"), "org: c1", 1),
                1,
            );
        }
        let _ = std::fs::write(head.join("tenants/c1.yaml"), changed);
        let t = Instant::now();
        let Ok(mut h) = trellis::check_paths(std::slice::from_ref(&head), &Default::default())
        else {
            continue;
        };
        let sources = std::mem::take(&mut h.sources);
        let Ok(b) =
            trellis::check_source(SetSource::Dir(base.clone()), &Default::default(), sources)
        else {
            continue;
        };
        let loaded = t.elapsed();
        let e012 = trellis::diff::change::check(&b.model, &h.model, Some("c1"));
        let checked = t.elapsed();
        let d = trellis::diff::diff(&b.model, &h.model);
        let total = t.elapsed();
        println!(
            "| {tier} | {} | {:.2} s | {:.2} s | {:.2} s | {:.2} s | {} | {} |",
            b.sources.len(),
            loaded.as_secs_f64(),
            (checked - loaded).as_secs_f64(),
            (total - checked).as_secs_f64(),
            total.as_secs_f64(),
            e012.len(),
            d.summary.users_changed
        );
        let _ = std::fs::remove_dir_all(&head);
    }
}
