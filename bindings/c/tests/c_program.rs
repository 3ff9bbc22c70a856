//! The C ABI from C: `tests/smoke.c`, built with the machine's `cc` against
//! `libtrellis_c.so`, asks two bundled examples every question and must
//! answer as the Rust library does; damaged tables must give an error code
//! and the library's message; and it answers every line of the shared
//! question files (`bindings/questions/*.jsonl`) as `trellis query` did.
//! When `valgrind` is on the PATH the program
//! runs under it too, leaks and invalid accesses failing the test; in CI
//! (`CI=true`) a missing `valgrind` or `cc` is a failure, not a skip.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use trellis_table::{Org, Perm, Resource, Role, Table, TableError, User};

/// The examples asked: one without resources, one with them.
const EXAMPLES: &[&str] = &["quickstart", "cloud-ops"];

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn on_path(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The directory holding `libtrellis_c.so`: beside this test binary (cargo
/// builds the library there before its tests), else under
/// `CARGO_TARGET_DIR` or `target`.
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let mut candidates: Vec<PathBuf> = exe.parent().map(Path::to_path_buf).into_iter().collect();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    candidates.push(target.join("debug/deps"));
    candidates.push(target.join("debug"));
    candidates
        .into_iter()
        .find(|d| d.join(library_file()).is_file())
        .expect("libtrellis_c not built beside the test binary nor in the target directory")
}

fn library_file() -> &'static str {
    if cfg!(target_os = "macos") {
        "libtrellis_c.dylib"
    } else {
        "libtrellis_c.so"
    }
}

/// Compiles an example in-process, as `trellis compile` would.
fn compile(example: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../policies-examples")
        .join(example);
    trellis_compiler::check_paths(&[dir], &Default::default())
        .expect("example loads")
        .compile(Default::default())
        .expect("example compiles")
        .encode()
}

/// Builds `smoke` into `dir`.
fn build_smoke(dir: &Path) -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = library_dir();
    let exe = dir.join("smoke");
    let out = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-pthread"])
        .arg("-I")
        .arg(here.join("include"))
        .arg(here.join("tests/smoke.c"))
        .arg("-L")
        .arg(&lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-ltrellis_c")
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("run cc");
    assert!(
        out.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// What smoke prints for one table, from the Rust library.
fn expected_answers(path: &Path, t: &Table) -> String {
    let mut s = String::new();
    let users: Vec<User> = (0..t.user_count() as u32).map(User).collect();
    let orgs: Vec<Org> = (0..t.org_count() as u32).map(Org).collect();
    let roles: Vec<Role> = (0..t.role_count() as u32).map(Role).collect();
    let perms: Vec<Perm> = (0..)
        .map(Perm)
        .take_while(|p| t.permission(&t.perm_name(*p)) == Some(*p))
        .collect();
    let resources: Vec<Resource> = (0..)
        .map(Resource)
        .take_while(|q| t.resource_dimension(*q).is_some())
        .collect();
    let (un, xn, rn) = (
        |u: &User| t.user_name(*u),
        |x: &Org| t.org_name(*x),
        |r: &Role| t.role_name(*r),
    );
    let join = |v: Vec<String>| v.iter().map(|n| format!(" {n}")).collect::<String>();
    let _ = writeln!(s, "table {}", path.display());
    let _ = writeln!(s, "hash {:016x}", t.input_hash());
    let _ = writeln!(
        s,
        "count users {} orgs {} roles {} permissions {} resources {}",
        users.len(),
        orgs.len(),
        roles.len(),
        perms.len(),
        resources.len()
    );
    for u in &users {
        for p in &perms {
            for x in &orgs {
                let a = t.allow(*u, *p, *x) as u8;
                let _ = writeln!(s, "allow {} {} {} {a}", un(u), t.perm_name(*p), xn(x));
            }
        }
    }
    for q in &resources {
        let home = t.resource_org(*q);
        for x in orgs.iter().filter(|x| home.is_none_or(|h| h == **x)) {
            for u in &users {
                for p in &perms {
                    let a = t.allow_on(*u, *p, *x, Some(*q)) as u8;
                    let (pn, qn) = (t.perm_name(*p), t.resource_name(*q));
                    let _ = writeln!(s, "on {} {pn} {} {qn} {a}", un(u), xn(x));
                }
            }
            for p in &perms {
                let who = t.who_on(*p, *x, Some(*q));
                let names = join(who.iter().map(|u| un(u).to_owned()).collect());
                let (pn, qn) = (t.perm_name(*p), t.resource_name(*q));
                let _ = writeln!(s, "whoon {pn} {} {qn}{names}", xn(x));
            }
        }
    }
    for u in &users {
        for x in &orgs {
            let held = join(t.roles(*u, *x).iter().map(|r| rn(r).to_owned()).collect());
            let _ = writeln!(s, "roles {} {}{held}", un(u), xn(x));
        }
    }
    for p in &perms {
        for x in &orgs {
            let who = join(t.who(*p, *x).iter().map(|u| un(u).to_owned()).collect());
            let _ = writeln!(s, "who {} {}{who}", t.perm_name(*p), xn(x));
        }
    }
    for r in &roles {
        for x in &orgs {
            let a = t.published(*r, *x) as u8;
            let _ = writeln!(s, "published {} {} {a}", rn(r), xn(x));
        }
    }
    for a in &users {
        for r in &roles {
            for u in &users {
                for x in &orgs {
                    let ok = t.can_assign(*a, *r, *u, *x) as u8;
                    let _ = writeln!(s, "assign {} {} {} {} {ok}", un(a), rn(r), un(u), xn(x));
                }
            }
        }
    }
    s
}

/// `TrellisStatus` of a load error, as the header numbers it.
fn code(e: &TableError) -> i32 {
    match e {
        TableError::Io(_) => 3,
        TableError::NotATable => 4,
        TableError::Version(_) => 5,
        TableError::Truncated { .. } => 6,
        TableError::Checksum => 7,
        TableError::Corrupt(_) => 8,
    }
}

/// What smoke prints for one damaged file.
fn expected_errors(path: &Path) -> String {
    let mut s = String::new();
    let e = Table::open(path).expect_err("damaged file opens");
    let _ = writeln!(s, "corrupt {} open {} {e}", path.display(), code(&e));
    if let Ok(bytes) = std::fs::read(path) {
        let e = Table::from_bytes(&bytes).expect_err("damaged bytes open");
        let _ = writeln!(s, "corrupt {} bytes {} {e}", path.display(), code(&e));
    }
    s
}

/// Damaged tables: truncated, one byte changed, an old version, foreign
/// bytes, empty, missing, a directory.
fn damaged(dir: &Path, good: &[u8]) -> Vec<PathBuf> {
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("truncated.tbl", good[..good.len() / 2].to_vec()),
        ("header-only.tbl", good[..64].to_vec()),
        ("text.tbl", b"this is not a table\n".to_vec()),
        ("empty.tbl", Vec::new()),
    ];
    let mut flipped = good.to_vec();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x5a;
    files.push(("flipped.tbl", flipped));
    let mut old = good.to_vec();
    old[8] = 2;
    files.push(("version-2.tbl", old));
    let mut paths: Vec<PathBuf> = files
        .into_iter()
        .map(|(name, bytes)| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).expect("write damaged table");
            p
        })
        .collect();
    paths.push(dir.join("missing.tbl"));
    let sub = dir.join("a-directory.tbl");
    std::fs::create_dir(&sub).expect("mkdir");
    paths.push(sub);
    paths
}

struct Setup {
    _dir: tempfile::TempDir,
    exe: PathBuf,
    args: Vec<PathBuf>,
    expected: String,
}

/// `None` when `cc` is missing outside CI.
fn setup() -> Option<Setup> {
    if !on_path("cc") {
        assert!(
            !in_ci(),
            "cc is needed to test the C ABI: apt-get install -y gcc"
        );
        eprintln!("skipped: no cc on the PATH");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = build_smoke(dir.path());
    let mut args = Vec::new();
    let mut expected = String::new();
    let mut first = None;
    for example in EXAMPLES {
        let bytes = compile(example);
        let path = dir.path().join(format!("{example}.tbl"));
        std::fs::write(&path, &bytes).expect("write table");
        let table = Table::open(&path).expect("the compiled table opens");
        expected.push_str(&expected_answers(&path, &table));
        args.push(path);
        first.get_or_insert(bytes);
    }
    // smoke answers in the order of its arguments: the damaged files first.
    let mut errors = String::new();
    let mut corrupt_args = Vec::new();
    for path in damaged(dir.path(), first.as_deref().unwrap_or_default()) {
        errors.push_str(&expected_errors(&path));
        corrupt_args.push(PathBuf::from("--corrupt"));
        corrupt_args.push(path);
    }
    expected.insert_str(0, &errors);
    args.splice(0..0, corrupt_args);
    // Last, the shared question files, each asked of its example's table.
    for example in EXAMPLES {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../bindings/questions")
            .join(format!("{example}.jsonl"));
        let text = std::fs::read_to_string(&file).expect("read the shared question file");
        let lines = text.lines().filter(|l| !l.is_empty()).count();
        let allowed = text.matches("\"allow\":true").count();
        assert!(lines > 0 && allowed > 0, "{}: no questions", file.display());
        let _ = writeln!(expected, "questions {} {lines} {allowed}", file.display());
        args.push(PathBuf::from("--questions"));
        args.push(file);
        args.push(dir.path().join(format!("{example}.tbl")));
    }
    Some(Setup {
        _dir: dir,
        exe,
        args,
        expected,
    })
}

/// The report lines smoke prints, without its closing line.
fn answers(stdout: &str) -> (String, &str) {
    let mut lines: Vec<&str> = stdout.lines().collect();
    let last = lines.pop().unwrap_or_default();
    (lines.iter().map(|l| format!("{l}\n")).collect(), last)
}

#[test]
fn c_program_answers_as_the_rust_library() {
    let Some(s) = setup() else { return };
    let out = Command::new(&s.exe)
        .args(&s.args)
        .output()
        .expect("run smoke");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "smoke failed ({}):\n{}\n{}",
        out.status,
        stdout
            .lines()
            .filter(|l| l.starts_with("FAIL"))
            .collect::<Vec<_>>()
            .join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    let (got, last) = answers(&stdout);
    assert!(
        last.starts_with("smoke: ") && last.ends_with(" 0 failed"),
        "{last}"
    );
    if got != s.expected {
        let first = got
            .lines()
            .zip(s.expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(got.lines().count().min(s.expected.lines().count()));
        let show = |t: &str| t.lines().skip(first).take(5).collect::<Vec<_>>().join("\n");
        panic!(
            "smoke differs from the Rust library at line {}:\nC:\n{}\nRust:\n{}",
            first + 1,
            show(&got),
            show(&s.expected)
        );
    }
    assert!(got.contains("\non "), "no resource question asked");
    assert!(got.contains(" 1\n"), "nothing allowed at all");
}

#[test]
fn c_program_is_clean_under_valgrind() {
    if !on_path("valgrind") {
        assert!(
            !in_ci(),
            "valgrind is needed in CI to test the C ABI: apt-get install -y valgrind"
        );
        eprintln!("skipped: no valgrind on the PATH");
        return;
    }
    let Some(s) = setup() else { return };
    let out = Command::new("valgrind")
        .args([
            "--leak-check=full",
            "--show-leak-kinds=definite,indirect,possible",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "--error-exitcode=1",
            "--quiet",
        ])
        .arg(&s.exe)
        .args(&s.args)
        .output()
        .expect("run valgrind");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "smoke under valgrind failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, last) = answers(&stdout);
    assert!(last.ends_with(" 0 failed"), "{last}");
}
