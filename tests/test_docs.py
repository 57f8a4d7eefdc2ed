"""Every command in the documentation is run, so a document that drifts from the code fails.

The fenced shell blocks of README.md and docs/*.md (```sh, ```bash, ```console) are run in order,
one bash session per document, in a scratch folder that looks like the checkout (its `examples/`
copied, so nothing is written into the checkout). `scripts/run CMD` runs CMD directly: the suite
already runs inside the project's environment. A ```console block's `$ ` lines are commands and
the lines under them their expected output: each must appear, in order, in what the command
printed (`…` stands for anything, such as a request id).

An HTML comment right before a block (invisible when the document is rendered) says how to take it:

- `<!-- docs-test: ci -->`: a long-running command (`scripts/demo`, `scripts/test`) that CI runs;
  checked to be exactly what `.ci/run` runs (or, for `scripts/demo`, its `--check` form), not run
  again inside the suite;
- `<!-- docs-test: background ready="TEXT" -->`: a server, started in the background; the
  following blocks run once it printed TEXT, and at the end of the document it gets Ctrl-C and
  must exit 0;
- `<!-- docs-test: file="NAME" -->`: the block (a script, a configuration) is saved as NAME for the
  commands after it, as the reader is told to do;
- `<!-- docs-test: needs="TOOL" -->`: a command for a tool the suite's machine may lack (the add-on
  image's `docker` build): run when TOOL is installed; otherwise that is printed, and the files and
  folders the command names must still exist.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS: Final = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "addon" / "DOCS.md",
]
SHELL: Final = {"sh", "bash", "console"}
# Every fenced block says what it is; these are the kinds the documents may hold.
KNOWN_LANGUAGES: Final = SHELL | {"python", "yaml", "json", "text", "http", "mermaid"}
COMMAND_TIMEOUT_S: Final = 120.0
READY_TIMEOUT_S: Final = 60.0
STOP_TIMEOUT_S: Final = 30.0
SHELL_OWN: Final = {"_", "PWD", "OLDPWD", "SHLVL"}

BLOCK = re.compile(
    r"(?:<!--\s*docs-test:\s*(?P<directive>[^>]*?)\s*-->\s*\n)?"
    r"^(?P<fence>```+)(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
DIRECTIVE_PART = re.compile(r'(\w+)(?:="([^"]*)")?')
LOOKS_RUN = re.compile(r"^\s*(?:\$ |scripts/|rtcc-|curl |python3? |bash |docker |sudo )")
SCRIPTS_RUN = re.compile(r"(^|\$ |&& |\|\| |; )scripts/run ", re.MULTILINE)


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int
    lang: str
    body: str
    directive: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        name = self.doc.relative_to(ROOT) if self.doc.is_relative_to(ROOT) else self.doc.name
        return f"{name}:{self.line}"


def blocks(doc: Path) -> list[Block]:
    text = doc.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        directive = dict(DIRECTIVE_PART.findall(match["directive"] or ""))
        line = text.count("\n", 0, match.start("fence")) + 1
        found.append(Block(doc, line, match["lang"], match["body"], directive))
    return found


CI_COMMAND = re.compile(r"(?:^|\s)(?:bash\s+)?(scripts/[\w-]+(?:\s+--?[\w-]+)*)")


def ci_commands() -> list[str]:
    """The checkout's commands `.ci/run` runs, as a reader types them (`bash scripts/X` is
    `scripts/X`, whatever `timeout` wraps it)."""
    commands = []
    for raw in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith(("#", "echo")):
            continue
        commands += [" ".join(m.split()) for m in CI_COMMAND.findall(line)]
    return commands


def commands_of(block: Block) -> list[str]:
    """The commands of a shell block, continuation lines joined (for the CI check)."""
    lines = block.body.replace("\\\n", " ").splitlines()
    if block.lang == "console":
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    return [" ".join(line.split()) for line in lines if line.strip() and not line.startswith("#")]


def unfinished(command: str) -> bool:
    """A command that goes on on the next line: a trailing backslash or an open quote."""
    if command.endswith("\\"):
        return True
    try:
        shlex.split(command)
    except ValueError:
        return True
    return False


def console_steps(body: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) of a console block."""
    steps: list[tuple[str, list[str]]] = []
    continuing = False
    for line in body.splitlines():
        if continuing:
            command, expected = steps[-1]
            steps[-1] = (f"{command}\n{line}", expected)
            continuing = unfinished(steps[-1][0])
        elif line.startswith("$ "):
            steps.append((line[2:], []))
            continuing = unfinished(line[2:])
        elif line.strip():
            assert steps, f"output before any command: {line!r}"
            steps[-1][1].append(line.strip())
    return steps


def expected_in(expected: list[str], output: str) -> str | None:
    """None when every expected line appears in order in `output`, else the first one missing."""
    lines = output.splitlines()
    at = 0
    for want in expected:
        pattern = re.compile(".*".join(re.escape(part) for part in want.split("…")))
        while at < len(lines) and not pattern.search(lines[at]):
            at += 1
        if at == len(lines):
            return want
        at += 1
    return None


class Session:
    """One document's commands: a scratch copy of the checkout's layout and its servers."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        for entry in ROOT.iterdir():
            if entry.name in {"examples", ".git"} or entry.name.startswith(".venv"):
                continue
            (folder / entry.name).symlink_to(entry)
        shutil.copytree(
            ROOT / "examples", folder / "examples", ignore=shutil.ignore_patterns(".demo-data")
        )
        self.servers: list[tuple[Block, subprocess.Popen[bytes], Path, threading.Thread]] = []
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def bash(self, script: str, where: str) -> str:
        """Run a command as the reader's terminal would: what it exports stays for the next."""
        script = SCRIPTS_RUN.sub(r"\1", script)
        state = self.folder / ".docs-env"
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", f"{script}\nenv -0 > {shlex.quote(str(state))}"],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{where}: exit {result.returncode}\n$ {script}\n{output}"
        for item in state.read_bytes().split(b"\0"):
            name, _, value = item.decode(errors="replace").partition("=")
            if name and name not in SHELL_OWN:
                self.env[name] = value
        return output

    def start(self, block: Block) -> None:
        """Start a server block and wait until it prints its ready line (or ends first)."""
        (command,) = commands_of(block)
        ready = block.directive["ready"].encode()
        log = self.folder / f".server-{len(self.servers)}.log"
        proc = subprocess.Popen(
            shlex.split(SCRIPTS_RUN.sub(r"\1", command)),
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        said_ready = threading.Event()

        def copy_to_log() -> None:
            # Keeps draining the pipe after the ready line, so the server never blocks on it.
            assert proc.stdout is not None
            with log.open("wb") as out:
                for line in proc.stdout:
                    out.write(line)
                    out.flush()
                    if ready in line:
                        said_ready.set()
            said_ready.set()  # the output ended: wake the waiter to say so

        copier = threading.Thread(target=copy_to_log, daemon=True)
        copier.start()
        self.servers.append((block, proc, log, copier))
        assert said_ready.wait(READY_TIMEOUT_S), f"{block.where}: never printed {ready!r}"
        assert ready in log.read_bytes(), f"{block.where}: exited\n{log.read_text()}"

    def stop(self) -> None:
        for block, proc, log, copier in reversed(self.servers):
            proc.send_signal(signal.SIGINT)
            try:
                code = proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise AssertionError(f"{block.where}: still running after Ctrl-C") from None
            copier.join()
            assert code == 0, f"{block.where}: exit {code} after Ctrl-C\n{log.read_text()}"
        self.servers.clear()

    def run(self, block: Block) -> None:
        if "file" in block.directive:
            (self.folder / block.directive["file"]).write_text(block.body, encoding="utf-8")
        if block.lang not in SHELL:
            return
        if "ci" in block.directive:
            return  # checked against .ci/run (test_long_commands_are_what_ci_runs)
        tool = block.directive.get("needs")
        if tool and shutil.which(tool) is None:
            print(f"NOT RUN {block.where}: {tool} is not installed here")
            for command in commands_of(block):
                words = command.split()
                # The paths the command names (not an option, nor an option's value).
                for before, word in itertools.pairwise(words):
                    if "/" in word and not word.startswith("-") and not before.startswith("-"):
                        path = self.folder / word
                        assert path.exists(), f"{block.where}: {word} does not exist"
            return
        if "background" in block.directive:
            self.start(block)
        elif block.lang == "console":
            for command, expected in console_steps(block.body):
                output = self.bash(command, block.where)
                missing = expected_in(expected, output)
                assert missing is None, (
                    f"{block.where}: `{command}` did not print {missing!r}; it printed:\n{output}"
                )
        else:
            self.bash(block.body, block.where)


def ids(docs: list[Path]) -> list[str]:
    return [doc.relative_to(ROOT).as_posix() for doc in docs]


@pytest.mark.parametrize("doc", DOCS, ids=ids(DOCS))
def test_every_command_of_the_document_works(doc: Path, tmp_path: Path) -> None:
    session = Session(tmp_path)
    try:
        for block in blocks(doc):
            session.run(block)
    finally:
        session.stop()


@pytest.mark.parametrize("doc", DOCS, ids=ids(DOCS))
def test_every_block_says_what_it_is(doc: Path) -> None:
    for block in blocks(doc):
        if block.lang == "":
            # A plain block (a diagram, sample output) must not hide a command from this test.
            commands = [line for line in block.body.splitlines() if LOOKS_RUN.match(line)]
            assert not commands, (
                f"{block.where}: commands in a block without a language: {commands}"
            )
        else:
            assert block.lang in KNOWN_LANGUAGES, f"{block.where}: fenced block of {block.lang!r}"
        unknown = set(block.directive) - {"ci", "background", "ready", "file", "needs"}
        assert not unknown, f"{block.where}: unknown docs-test directive {unknown}"


def test_long_commands_are_what_ci_runs() -> None:
    ci = ci_commands()
    checked = 0
    for doc in DOCS:
        for block in blocks(doc):
            if "ci" not in block.directive:
                continue
            for command in commands_of(block):
                program = ROOT / command.split()[0]
                assert program.is_file(), f"{block.where}: {program} is not in the checkout"
                assert os.access(program, os.X_OK), f"{block.where}: {program} is not executable"
                assert command in ci or f"{command} --check" in ci, (
                    f"{block.where}: `{command}` is not what .ci/run runs ({ci})"
                )
                checked += 1
    assert checked >= 2, "the README's first two commands (scripts/demo, scripts/test)"


def test_the_readme_starts_with_the_demo_then_the_tests() -> None:
    shell = [b for b in blocks(ROOT / "README.md") if b.lang in SHELL]
    assert commands_of(shell[0]) == ["scripts/demo"]
    assert commands_of(shell[1]) == ["scripts/test"]


# --- the checker itself --------------------------------------------------------------------------


def test_a_command_in_a_plain_block_is_caught() -> None:
    assert LOOKS_RUN.match("$ rtcc-city request")
    assert LOOKS_RUN.match("scripts/run rtcc-gateway serve")
    assert not LOOKS_RUN.match("request ─▶ signatures ─▶ policy")


def test_console_output_is_matched_in_order_with_ellipses() -> None:
    steps = console_steps(
        '$ echo a \\\n  b\nx\n$ rtcc-city x\n  "request_id": "req_…",\n$ echo \'{"a":\n  1}\'\n'
    )
    assert steps == [
        ("echo a \\\n  b", ["x"]),
        ("rtcc-city x", ['"request_id": "req_…",']),
        ("echo '{\"a\":\n  1}'", []),
    ]
    output = '{\n  "request_id": "req_Ab12",\n  "status": "declined"\n}'
    assert expected_in(['"request_id": "req_…",', '"status": "declined"'], output) is None
    assert expected_in(['"status": "declined"', '"request_id": "req_…",'], output) is not None
    assert expected_in(['"status": "approved"'], output) == '"status": "approved"'


def test_a_drifted_command_fails(tmp_path: Path) -> None:
    doc = tmp_path / "drift.md"
    doc.write_text("```console\n$ echo hello\nhello\n```\n\n```sh\nrtcc-gateway no-such\n```\n")
    (tmp_path / "session").mkdir()
    session = Session(tmp_path / "session")
    first, second = blocks(doc)
    session.run(first)
    with pytest.raises(AssertionError, match="exit 2"):
        session.run(second)
    wrong = Block(doc, 1, "console", "$ echo hello\ngoodbye\n")
    with pytest.raises(AssertionError, match="did not print 'goodbye'"):
        session.run(wrong)


def test_the_files_the_readme_names_exist() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    tops = {entry.name for entry in ROOT.iterdir()}
    named = {
        token
        for token in re.findall(r"`([\w.@/-]+)`", text)
        if token.split("/")[0] in tops and ("/" in token or token.endswith(".md"))
    }
    assert "docs/city-integration.md" in named
    missing = sorted(token for token in named if not (ROOT / token).exists())
    assert missing == [], f"README.md names files that are not in the checkout: {missing}"
