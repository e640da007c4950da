"""Shared helpers for tools/bench/index_bench.py and search_bench.py.

Python 3 standard library only. Everything here is about running one child
process at a time and measuring it: wall time, peak RSS (from the child's own
rusage via os.wait4), exit status; plus the corpus preparation both scripts
need (decompressing the ACL shards, converting JSONL to scriptindex's dump
format) and the FTS5 loader, which runs as a child so that it is timed and
measured the same way as the other engines.

Run directly as `python3 benchlib.py fts5-load CORPUS.jsonl DB` to load a
JSONL corpus into a fresh SQLite FTS5 table (that is how index_bench.py
times FTS5).
"""

import datetime
import gzip
import json
import math
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_RESDEX = os.path.join(REPO, "build", "resdex")
ACL_DIR = "/work/shared/data/acl-anthology"
ACL_SHARDS = [os.path.join(ACL_DIR, "acl-anthology-%03d.jsonl.gz" % i) for i in range(6)]

# scriptindex index script for the id/title/text records written by
# jsonl_to_scriptindex(). `id` is the unique key (boolean term Q<id>, as
# omega does); the title is indexed both with the S prefix (so `title:` could
# be mapped to it) and unprefixed, the text unprefixed, both with positions
# (phrase search) and English stems (scriptindex's default stemmer), and
# all three are stored in the document data so that quest can print them.
SCRIPTINDEX_SCRIPT = """\
# resdex benchmark: one record per JSONL line (id, title, text)
id : field=id boolean=Q unique=Q
title : field=title index=S index
text : field=text index
"""

FTS5_TOKENIZE = "porter unicode61 remove_diacritics 2"


class BenchError(Exception):
    """A problem that stops the benchmark with a clear message."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- tools


def require_executable(path_or_name, hint):
    """Returns the absolute path of an executable, or raises BenchError."""
    if os.sep in path_or_name:
        if os.path.isfile(path_or_name) and os.access(path_or_name, os.X_OK):
            return os.path.abspath(path_or_name)
        raise BenchError("%s: not found or not executable. %s" % (path_or_name, hint))
    found = shutil.which(path_or_name)
    if not found:
        raise BenchError("%s: not on PATH. %s" % (path_or_name, hint))
    return found


RESDEX_HINT = ("Build it with `cmake -S . -B build && cmake --build build -j2 --target resdex` "
               "in the repository root, or pass --resdex PATH.")
XAPIAN_OMEGA_HINT = "Install it with `apt-get install xapian-omega` (gives scriptindex)."
XAPIAN_TOOLS_HINT = "Install it with `apt-get install xapian-tools` (gives quest)."


def check_fts5():
    """Raises BenchError unless this python's sqlite3 has FTS5."""
    try:
        con = sqlite3.connect(":memory:")
        con.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize = '%s')" % FTS5_TOKENIZE)
        con.close()
    except sqlite3.Error as e:
        raise BenchError("this python's sqlite3 (SQLite %s) has no usable FTS5: %s"
                         % (sqlite3.sqlite_version, e))


def tool_version(cmd):
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, timeout=30).stdout
        return out.strip().splitlines()[0] if out.strip() else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def snapshot_binary(path, tmp):
    """Copies an executable into the scratch dir and returns the copy's path.
    The programs resdex runs in its place (resdex-index for `resdex index`,
    resdex-serve), found next to it, are copied along.

    Other people may rebuild build/resdex while a benchmark runs; timing a
    private copy keeps every figure of one run about one binary."""
    import hashlib
    dest_dir = os.path.join(tmp, "bin")
    os.makedirs(dest_dir, exist_ok=True)
    dest = os.path.join(dest_dir, os.path.basename(path))
    shutil.copy2(path, dest)
    for sibling in ("resdex-index", "resdex-serve"):
        src = os.path.join(os.path.dirname(path), sibling)
        if os.path.isfile(src):
            shutil.copy2(src, os.path.join(dest_dir, sibling))
    with open(dest, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    mtime = datetime.datetime.fromtimestamp(os.path.getmtime(path)).astimezone()
    return dest, {"binary_sha256": digest[:16], "binary_mtime": mtime.isoformat(timespec="seconds")}


def resdex_build_type(resdex):
    cache = os.path.join(os.path.dirname(resdex), "CMakeCache.txt")
    try:
        with open(cache) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def machine_info():
    info = {"nproc": os.cpu_count(), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "kernel": platform.release()}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["mem_total_mb"] = round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["rss_method"] = rss_method()
    info["loadavg_at_start"] = list(os.getloadavg())
    info["date"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    return info


# ---------------------------------------------------------------- running


GNU_TIME = "/usr/bin/time"


def rss_method():
    """How peak RSS is measured: 'gnu-time' or 'wait4'."""
    return "gnu-time" if os.access(GNU_TIME, os.X_OK) else "wait4"


def run_measured(cmd, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=None,
                 check=True, what=None, measure_rss=True):
    """Runs cmd to completion; returns {wall_s, user_s, sys_s, maxrss_mb, rc, stderr}.

    wall_s is measured here around the whole child. Peak RSS comes from GNU
    time (/usr/bin/time, a small C process, so its child starts small) when
    it is installed; otherwise from wait4's rusage of the direct child, which
    on Linux also counts the python image the child was forked from (the
    figure is then at least this script's own RSS, ~25 MB). stdout may be
    DEVNULL or a file object; stderr is captured and returned. With
    measure_rss=False the command runs directly (no /usr/bin/time in between,
    for short commands whose wall time matters most); maxrss_mb is then None.
    """
    import tempfile
    use_time = measure_rss and rss_method() == "gnu-time"
    with tempfile.TemporaryFile(mode="w+b") as err, \
            tempfile.NamedTemporaryFile(mode="r", prefix="time-", suffix=".txt") as tf:
        full = ([GNU_TIME, "-q", "-o", tf.name, "-f", "%e %U %S %M %x"] + list(cmd)
                if use_time else list(cmd))
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=stdout, stdin=stdin, stderr=err, cwd=cwd)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        err_text = err.read().decode("utf-8", "replace")
        user, sys_, maxrss_kb = ru.ru_utime, ru.ru_stime, ru.ru_maxrss
        if use_time:
            fields = tf.read().split()
            try:
                user, sys_, maxrss_kb = float(fields[1]), float(fields[2]), int(fields[3])
            except (ValueError, IndexError):
                raise BenchError("could not read %s's output for %s: %r"
                                 % (GNU_TIME, " ".join(cmd), fields))
    res = {"wall_s": wall, "user_s": user, "sys_s": sys_,
           "maxrss_mb": maxrss_kb / 1024.0 if measure_rss else None, "rc": p.returncode, "stderr": err_text}
    if check and p.returncode != 0:
        raise BenchError("%s failed with exit code %d: %s\n%s" % (
            what or cmd[0], p.returncode, " ".join(cmd), err_text[-4000:]))
    return res


def dir_size_mb(path):
    """Apparent size (sum of st_size) of a file or of every file under a dir, in MB."""
    if os.path.isfile(path):
        return os.path.getsize(path) / 1e6
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total / 1e6


def rmtree(path):
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.unlink(path)


# ---------------------------------------------------------------- statistics


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def percentile(xs, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = max(1, math.ceil(p / 100.0 * len(s)))
    return s[k - 1]


def geomean(xs):
    xs = [x for x in xs if x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(x, spec="%.2f", none="-"):
    return none if x is None or (isinstance(x, float) and math.isnan(x)) else spec % x


def print_table(headers, rows, out=sys.stdout):
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(str(c)))
    line = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
        for i, c in enumerate(cells))
    print(line(headers), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        print(line(r), file=out)


# ---------------------------------------------------------------- corpus


def open_text(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, "r", encoding="utf-8")


def prepare_corpus(inputs, dest):
    """Concatenates the input JSONL files (gzip or plain) into dest; returns the line count."""
    n = 0
    with open(dest, "w", encoding="utf-8") as out:
        for path in inputs:
            if not os.path.isfile(path):
                raise BenchError("corpus file not found: %s" % path)
            with open_text(path) as f:
                for line in f:
                    if not line.strip():
                        continue
                    if not line.endswith("\n"):
                        line += "\n"
                    out.write(line)
                    n += 1
    if n == 0:
        raise BenchError("the corpus is empty: %s" % ", ".join(inputs))
    return n


def _si_value(v):
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        v = " ".join(str(x) for x in v)
    s = str(v).replace("\r\n", "\n").replace("\r", "\n")
    # scriptindex: a newline inside a value is escaped as newline + '='.
    return s.replace("\n", "\n=")


def jsonl_to_scriptindex(src, dest):
    """Writes scriptindex's dump format (id=/title=/text= lines, a blank line
    between records) for each JSONL line of src. Returns the record count."""
    n = 0
    with open(src, encoding="utf-8") as f, open(dest, "w", encoding="utf-8") as out:
        for lineno, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
            except ValueError as e:
                raise BenchError("%s:%d: not JSON: %s" % (src, lineno, e))
            if "_id" not in rec:
                raise BenchError("%s:%d: no _id" % (src, lineno))
            out.write("id=%s\ntitle=%s\ntext=%s\n\n" % (
                _si_value(rec["_id"]), _si_value(rec.get("title")),
                _si_value(rec.get("text", rec.get("abstract")))))
            n += 1
    return n


SCRIPTINDEX_COUNTS = re.compile(r"records \(added, replaced, deleted, skipped\) = "
                                r"\((\d+), (\d+), (\d+), (\d+)\)")


def build_scriptindex(scriptindex, si_input, script_path, db, check=True):
    """Runs `scriptindex --overwrite DB SCRIPT INPUT` measured; adds 'added'."""
    rmtree(db)
    import tempfile
    with tempfile.TemporaryFile(mode="w+") as out:
        res = run_measured([scriptindex, "--overwrite", db, script_path, si_input],
                           stdout=out, check=check, what="scriptindex")
        out.seek(0)
        text = out.read() + res["stderr"]
    m = SCRIPTINDEX_COUNTS.search(text)
    res["added"] = int(m.group(1)) if m else None
    res["skipped"] = int(m.group(4)) if m else None
    return res


def fts5_load(corpus, db):
    """Loads corpus (JSONL) into a fresh FTS5 table in one transaction."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, text, "
                "tokenize = '%s')" % FTS5_TOKENIZE)

    def rows():
        with open(corpus, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                yield (str(r["_id"]), r.get("title") or "", r.get("text") or "")

    con.execute("BEGIN")
    con.executemany("INSERT INTO docs(id, title, text) VALUES (?, ?, ?)", rows())
    con.execute("COMMIT")
    n = con.execute("SELECT count(*) FROM docs").fetchone()[0]
    con.close()
    return n


def build_fts5(corpus, db, check=True):
    """Runs the FTS5 loader as a child process (python startup included)."""
    import tempfile
    with tempfile.TemporaryFile(mode="w+") as out:
        res = run_measured([sys.executable, os.path.abspath(__file__), "fts5-load", corpus, db],
                           stdout=out, check=check, what="FTS5 loader")
        out.seek(0)
        text = out.read().strip()
    try:
        res["added"] = int(text.split()[-1])
    except (ValueError, IndexError):
        res["added"] = None
    return res


def resdex_index(resdex, corpus, index, extra=("-q",), check=True):
    """Runs `resdex index --corpus CORPUS --index INDEX [extra]` measured.
    With --json in extra, the summary is parsed into res['summary']."""
    import tempfile
    with tempfile.TemporaryFile(mode="w+") as out:
        res = run_measured([resdex, "index", "--corpus", corpus, "--index", index] + list(extra),
                           stdout=out, check=check, what="resdex index")
        out.seek(0)
        text = out.read()
    res["summary"] = None
    if "--json" in extra:
        try:
            res["summary"] = json.loads(text.strip().splitlines()[-1])
        except (ValueError, IndexError):
            pass
    return res


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "fts5-load":
        print("loaded %d" % fts5_load(sys.argv[2], sys.argv[3]))
    else:
        print(__doc__)
        sys.exit(2)


def resdex_machine_info(resdex):
    """machine_info() plus what identifies the resdex binary under test."""
    info = machine_info()
    info.update({"resdex": resdex, "resdex_version": tool_version([resdex, "--version"]),
                 "resdex_build_type": resdex_build_type(resdex)})
    return info


def in_scratch_dir(prefix, args, resdex, info, body):
    """Runs body(resdex_copy, tmp) in a new scratch dir (under args.tmpdir)
    holding a private copy of the resdex binary (see snapshot_binary), whose
    details go into info; removes the dir afterwards unless args.keep."""
    tmp = tempfile.mkdtemp(prefix=prefix, dir=args.tmpdir)
    try:
        copy, snap = snapshot_binary(resdex, tmp)
        info.update(snap)
        return body(copy, tmp)
    finally:
        if args.keep:
            log("scratch dir kept: %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def print_machine(title, m):
    """The first lines of a report: what ran, where and on which binary."""
    print("%s, %s" % (title, m["date"]))
    print("machine: %s cores, %s MB RAM, %s; load average %.2f at start, %.2f at end"
          % (m["nproc"], m.get("mem_total_mb", "?"), m.get("cpu", "?"),
             m["loadavg_at_start"][0], m["loadavg_at_end"][0]))
    print("resdex binary: %s, built %s, sha256 %s… (a private copy is timed)"
          % (m["resdex"], m["binary_mtime"], m["binary_sha256"]))


def print_problems(problems):
    if problems:
        print()
        print("PROBLEMS:")
        for p in problems:
            print("  " + p)


def run_main(name, main):
    """sys.exit(main(argv)), with a BenchError as `name: message`, exit 2."""
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        print("%s: %s" % (name, e), file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
