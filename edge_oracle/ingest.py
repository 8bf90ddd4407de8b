"""The ingest worker: input lines → readings → events → the outbox, in small transactions.

Reader threads (one per input) block on their file, FIFO or stdin and hand lines to one queue;
a single ingest thread parses, normalises, signs and commits them with the input positions.
On stop, lines already read are still committed before the thread ends."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from citypass.protocol.sensor_events import EventDomain
from edge_oracle.adapters.camera import parse_camera_line
from edge_oracle.adapters.slot_sensors import parse_slot_line
from edge_oracle.adapters.sources import Line, LineSource
from edge_oracle.devices import KeyRing
from edge_oracle.errors import ReadingError
from edge_oracle.metrics import EdgeMetrics
from edge_oracle.normaliser import Draft, Normaliser
from edge_oracle.outbox import Outbox
from edge_oracle.plate_hasher import PlateHasher
from edge_oracle.readings import Reading

log = logging.getLogger("edge_oracle.ingest")
GROUP_LINES = 256  # lines per transaction: one fsync for many events


# A service object, compared and hashed by identity; no repr (it holds the device keys).
@dataclass(eq=False, repr=False)
class Ingestor:
    """Parse + normalise + append; usable without threads (tests, the simulator)."""

    outbox: Outbox
    keys: KeyRing
    domain: EventDomain
    normaliser: Normaliser
    metrics: EdgeMetrics
    # Month keys for the plates cameras read (None: plates are only dropped).
    plates: PlateHasher | None = None
    # The newest reading time seen, starting from the sensors' states (not passed in).
    clock_ms: int = field(init=False)

    def __post_init__(self) -> None:
        self.clock_ms = max((s.last_seen_ms for s in self.normaliser.states.values()), default=0)

    def parse(self, line: Line, source: LineSource) -> Reading | None:
        """The reading on this line, or None (blank, ignored or malformed: logged and counted)."""
        if line.text == "":
            return None
        self.metrics.readings.labels(source.format).inc()
        try:
            if line.text is None:
                raise ReadingError("bad_encoding", "the line is not UTF-8 text")
            reading: Reading | None
            if source.format == "slot":
                reading, dropped = parse_slot_line(line.text)
            else:
                reading, dropped = parse_camera_line(line.text, source.image_root, self.plates)
            if reading is not None and self.keys.for_sensor(reading.sensor) is None:
                raise ReadingError(
                    "unknown_sensor",
                    f"sensor {reading.sensor!r} has no device key: add it to the devices file",
                )
        except ReadingError as exc:
            self.metrics.malformed.labels(exc.reason).inc()
            log.warning(
                f"{source.spec} line {line.number}: skipped: {exc}",
                extra={"fields": {"input": source.spec, "line": line.number, "reason": exc.reason}},
            )
            return None
        if dropped:
            self.metrics.personal_dropped.inc(len(dropped))
            log.info(
                f"{source.spec} line {line.number}: dropped personal fields {', '.join(dropped)}",
                extra={"fields": {"input": source.spec, "line": line.number}},
            )
        return reading

    def ingest(
        self, readings: list[Reading], positions: dict[str, tuple[int, int]] | None = None
    ) -> int:
        """Normalise and commit the readings (and input positions) in one transaction; returns
        the number of events appended."""
        drafts: list[Draft] = []
        before = self.normaliser.duplicates
        for reading in readings:
            drafts += self.normaliser.process(reading)
            self.clock_ms = max(self.clock_ms, reading.ts_ms)
        # Sensors silent past the threshold, measured on the data's own clock so replayed or
        # simulated input is judged by its timestamps, not by the wall clock.
        drafts += self.normaliser.tick(self.clock_ms)
        self.metrics.duplicates.inc(self.normaliser.duplicates - before)
        states = self.normaliser.take_changed()
        self.outbox.append(drafts, self.keys, self.domain, states=states, positions=positions)
        for draft in drafts:
            self.metrics.normalised.labels(draft.event_type).inc()
        return len(drafts)


class IngestThreads:
    """Reader threads + the ingest thread for a set of inputs."""

    def __init__(
        self, ingestor: Ingestor, sources: list[LineSource], on_done: Callable[[], object]
    ):
        self.ingestor = ingestor
        self.sources = {s.name: s for s in sources}
        self.queue: queue.Queue[Line | str] = queue.Queue(maxsize=10_000)
        self.stop = threading.Event()
        self.on_done = on_done
        self.readers = [
            threading.Thread(target=self._read, args=(s,), name=f"read {s.spec}", daemon=True)
            for s in sources
        ]
        self.worker = threading.Thread(target=self._work, name="ingest", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        for thread in self.readers:
            thread.start()
        self.worker.start()

    def close(self, timeout: float = 30) -> None:
        self.stop.set()
        self.worker.join(timeout)

    def _read(self, source: LineSource) -> None:
        try:
            start = self.ingestor.outbox.position(source.name)
            for line in source.lines(start, self.stop):
                self.queue.put(line)
        except OSError as exc:
            log.error(f"input {source.spec} failed: {exc}")
        finally:
            self.queue.put(source.name)  # this input is finished

    def _work(self) -> None:
        open_inputs = len(self.sources)
        try:
            while open_inputs:
                try:
                    first = self.queue.get(timeout=0.2)
                except queue.Empty:
                    if self.stop.is_set():
                        break  # readers may be blocked on a silent stream: nothing is pending
                    continue
                group = [first]
                while len(group) < GROUP_LINES:
                    try:
                        group.append(self.queue.get_nowait())
                    except queue.Empty:
                        break
                readings: list[Reading] = []
                positions: dict[str, tuple[int, int]] = {}
                for item in group:
                    if isinstance(item, str):
                        open_inputs -= 1
                        continue
                    source = self.sources[item.source]
                    reading = self.ingestor.parse(item, source)
                    if reading is not None:
                        readings.append(reading)
                    if source.resumable:
                        positions[source.name] = (item.number, item.offset)
                if readings or positions:
                    self.ingestor.ingest(readings, positions)
        except BaseException as exc:  # surfaced by the daemon, which then stops
            self.error = exc
            log.exception("ingest stopped on an error")
        finally:
            self.on_done()
