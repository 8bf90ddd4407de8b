"""The soak's node: sealing pipelined blocks, restarts (SIGTERM, kill -9, an older snapshot)
and `ledger-node verify`."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import click
import ujson

from bench._soak_probes import Sampler
from bench.rpc import Pipeline, http_post, raw_tx_call
from bench.runner import progress_printer
from bench.signing import Sender
from ledger_node.config import SNAPSHOT_DIR
from ledger_node.launcher import CLI, NodeProcess

STALL_SECONDS = 1.0
TRANSFER_GAS = 21_000
HIDDEN_PREFIX = ".soak-hidden-"  # the newest snapshot, moved aside for the worst-case restart

progress = progress_printer("soak")


def block_request(signer: Sender, txs: int) -> bytes:
    """One HTTP request that the node seals as one block: `txs` 0-value self-transfers."""
    calls = [raw_tx_call(signer.sign(signer.address, b"", TRANSFER_GAS).raw, i) for i in range(txs)]
    return http_post(ujson.dumps(calls[0] if txs == 1 else calls).encode())


def refusal(answer: Any) -> str | None:
    """The first error in an answer to one block's request, if any."""
    for entry in answer if isinstance(answer, list) else [answer]:
        if not isinstance(entry, dict) or "result" not in entry:
            return str(entry.get("error") if isinstance(entry, dict) else entry)[:400]
    return None


def progress_line(sample: dict[str, Any], total: int) -> str:
    return (
        f"block {sample['block']:,}/{total:,}: {sample['blocks_per_s']} blocks/s, node "
        f"{sample['node_rss_mb']} MB, engine {sample['engine_rss_mb']} MB, journal "
        f"{sample['journal_bytes_per_block']} B/block, snapshots {sample['snapshot_bytes'] / 1e6:.0f} MB"
    )


class Soak:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.data_dir = tmp / "node"
        self.log = tmp / "node.log"
        self.password = secrets.token_urlsafe(18)
        self.node: NodeProcess | None = None
        self.errors: list[str] = []
        self.restarts: list[dict[str, Any]] = []
        self.sealing_seconds = 0.0  # wall time spent sealing, restarts and samples excluded
        # Answers more than STALL_SECONDS apart: the sealer held up (a snapshot being written).
        self.stalls: list[dict[str, float]] = []
        # SIGTERM/SIGINT: stop sealing (or stop verify) and report what was measured.
        self.stop_requested = asyncio.Event()
        self.interrupted_at: int | None = None

    async def status(self) -> dict[str, Any]:
        assert self.node is not None
        reply = await asyncio.to_thread(self.node.rpc, "ledger_status")
        return reply["result"]

    def start_node(self, port: int = 0) -> None:
        self.node = NodeProcess(self.data_dir, self.password, port=port, log_path=self.log)
        self.node.start(timeout=600)

    def snapshot_files(self) -> list[Path]:
        """The snapshot files, newest first (their names carry the block number)."""
        return sorted((self.data_dir / SNAPSHOT_DIR).glob("state-*.json"), reverse=True)

    async def restart(self, kind: str) -> dict[str, Any]:
        """Stop (SIGTERM, or kill -9), start `ledger-node start` again on the same port, and
        time until it answers ledger_status with the head it had.

        kind "sigterm-older-snapshot" is the worst case of a SIGTERM restart: the newest
        snapshot is moved aside while the node is down, so recovery starts from the one before
        and replays a whole snapshot interval (as just before the next snapshot is due)."""
        assert self.node is not None
        before = await self.status()
        port = self.node.port
        progress(f"{kind} restart at block {int(before['head'], 16):,}")
        started = time.perf_counter()
        if kind == "kill9":
            await asyncio.to_thread(self.node.kill)
            exit_code = -9
        else:
            exit_code = await asyncio.to_thread(self.node.stop, 120.0)
        stopped = time.perf_counter()
        entry: dict[str, Any] = {
            "kind": kind,
            "at_block": int(before["head"], 16),
            "stop_exit_code": exit_code,
            "stop_s": round(stopped - started, 2),
            "last_snapshot": int(before["lastSnapshot"], 16) if before["lastSnapshot"] else 0,
        }
        hidden: tuple[Path, Path] | None = None
        if kind == "sigterm-older-snapshot":
            newest, older = self.snapshot_files()[:2]
            hidden = (newest, newest.with_name(HIDDEN_PREFIX + newest.name))
            newest.rename(hidden[1])
            entry["last_snapshot"] = int(older.stem.split("-")[1])
        entry["replayed_blocks"] = entry["at_block"] - entry["last_snapshot"]
        try:
            await asyncio.to_thread(self.start_node, port)
            after = await self.status()
            entry["head_after"] = int(after["head"], 16)
            entry["same_head"] = after["head"] == before["head"] and after["pending"] == 0
        except (RuntimeError, OSError, KeyError) as exc:
            entry.update(head_after=None, same_head=False, error=str(exc)[:400])
        finally:
            if hidden is not None:  # back in place: the data directory stays complete
                hidden[1].rename(hidden[0])
        ready = time.perf_counter()
        entry["start_s"] = round(ready - stopped, 2)
        entry["restart_s"] = round(ready - started, 2)
        entry["ok"] = entry["same_head"]
        if not entry["ok"]:
            self.errors.append(
                f"{kind} restart at block {entry['at_block']}: came back at head "
                f"{entry.get('head_after')} ({entry.get('error', 'different head or pending')})"
            )
        progress(
            f"  back at head {entry.get('head_after')} in {entry['restart_s']} s "
            f"(stop {entry['stop_s']} s, start + recovery {entry['start_s']} s, "
            f"{entry['replayed_blocks']} blocks after the last snapshot)"
        )
        self.restarts.append(entry)
        return entry

    async def seal(self, signer: Sender, sampler: Sampler) -> int:
        """Seal --blocks blocks, restarting at the marks; returns the blocks confirmed."""
        args = self.args
        assert self.node is not None
        marks = list(args.restart_at)
        confirmed = 0
        pipe = await Pipeline.open(self.node.port)
        sampler.take(self.node.process.pid, 0, 0.0)
        # click draws the bar only on a terminal: into a file, a line every tenth of the run.
        quiet_bar = sys.stderr.isatty()
        report_every = max(args.blocks // 10 // args.sample_every, 1) * args.sample_every
        with click.progressbar(
            length=args.blocks, label="Sealing", file=sys.stderr, show_pos=True
        ) as bar:
            try:
                while confirmed < args.blocks:
                    stop_at = marks[0] if marks else args.blocks
                    began = last_answer = time.perf_counter()
                    sent = confirmed
                    # Each request is one block: stop sending at the next restart mark, so the
                    # node is stopped with nothing in flight.
                    while confirmed < stop_at:
                        if self.stop_requested.is_set() and confirmed == sent:
                            break  # the requests in flight are answered
                        while (
                            sent < stop_at
                            and sent - confirmed < args.pipeline
                            and not self.stop_requested.is_set()
                        ):
                            pipe.send(block_request(signer, args.txs_per_block))
                            sent += 1
                        await pipe.writer.drain()
                        answer = await pipe.answer()
                        answered = time.perf_counter()
                        if answered - last_answer > STALL_SECONDS and confirmed > 0:
                            self.stalls.append(
                                {"block": confirmed + 1, "s": round(answered - last_answer, 2)}
                            )
                        last_answer = answered
                        problem = refusal(answer)
                        if problem is not None:
                            raise RuntimeError(
                                f"block {confirmed + 1}'s request refused: {problem}"
                            )
                        confirmed += 1
                        bar.update(1)
                        if confirmed % args.sample_every == 0:
                            self.sealing_seconds += time.perf_counter() - began
                            sample = sampler.take(
                                self.node.process.pid, confirmed, self.sealing_seconds
                            )
                            if not quiet_bar and confirmed % report_every == 0:
                                progress(progress_line(sample, args.blocks))
                            began = time.perf_counter()
                    self.sealing_seconds += time.perf_counter() - began
                    if self.stop_requested.is_set():
                        self.interrupted_at = confirmed
                        progress(f"interrupted: sealing stopped at block {confirmed:,}")
                        break
                    if marks and confirmed == marks[0]:
                        marks.pop(0)
                        await pipe.close()
                        await self.restart("sigterm")
                        pipe = await Pipeline.open(self.node.port)
            finally:
                await pipe.close()
        return confirmed

    async def verify(self, blocks: int) -> dict[str, Any]:
        progress("ledger-node verify (the node is stopped); SIGTERM stops it")
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *CLI,
            "verify",
            "--data-dir",
            str(self.data_dir),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        finished = asyncio.ensure_future(process.communicate())
        stop = asyncio.ensure_future(self.stop_requested.wait())
        await asyncio.wait([finished, stop], return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not finished.done():
            process.kill()  # its engine goes with it (PR_SET_PDEATHSIG)
            await finished
            seconds = round(time.perf_counter() - started, 2)
            progress(f"  verify interrupted after {seconds} s")
            self.errors.append(f"ledger-node verify interrupted after {seconds} s")
            return {"ok": None, "interrupted_after_s": seconds}
        out, err = (part.decode(errors="replace") for part in finished.result())
        seconds = time.perf_counter() - started
        ok = process.returncode == 0
        report = {
            "ok": ok,
            "seconds": round(seconds, 2),
            "blocks_per_s": round(blocks / seconds, 1) if ok else None,
            # verify's "verified N blocks and M transactions: …" line, wherever it comes.
            "summary": next(
                (line for line in out.splitlines() if line.startswith("verified ")),
                (out.strip().splitlines() or [""])[-1],
            )[:400],
            "error": None if ok else (err.strip().splitlines() or ["?"])[-1][:400],
        }
        if not ok:
            self.errors.append(f"ledger-node verify failed: {report['error']}")
        progress(f"  verify: {report}")
        return report
