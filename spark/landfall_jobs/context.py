"""What a stage's run(spark, ctx) is given: its name, the roots, and the batch it processes."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple, Union

from . import storage

STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BATCH_KEY = re.compile(r"^[a-z_][a-z0-9_]*$")
# a batch value ends up in paths (partition directories) and the app name: nothing to escape, no "." or ".."
BATCH_VALUE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
# fields of the done marker a batch key would overwrite ("date" is allowed as the date field: same value)
RESERVED_KEYS = frozenset({"stage", "rows", "outputs", "spark_version", "written_at", "seconds"})


def parse_date(value: str, what: str = "date") -> dt.date:
    try:
        parsed = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.isoformat() != value:
        raise ValueError(f"{what} must be YYYY-MM-DD, got {value!r}")
    return parsed


@dataclass(frozen=True)
class Roots:
    input_root: str
    checkpoint_root: str
    output_root: str

    @staticmethod
    def of(input_root: str, checkpoint_root: str, output_root: str) -> "Roots":
        return Roots(
            storage.normalize_root(input_root),
            storage.normalize_root(checkpoint_root),
            storage.normalize_root(output_root),
        )

    def checkpoint(self, stage: str, table: str) -> str:
        return storage.join(self.checkpoint_root, stage, table)

    def output(self, table: str) -> str:
        return storage.join(self.output_root, table)


@dataclass(frozen=True)
class StageContext:
    stage: str
    roots: Roots
    batch: Dict[str, str]  # in the job's batch-key order
    date_field: str  # the batch key holding the business date
    day: dt.date  # batch[date_field], parsed
    partition: List[Tuple[str, str]]  # (key, value) of the output partition, in path order

    @staticmethod
    def of(
        stage: str,
        roots: Roots,
        batch: Union[Mapping[str, str], Sequence[Tuple[str, str]]],
        date_field: str,
        partition_by: Iterable[str] = (),
    ) -> "StageContext":
        """Validated: a ValueError says what is wrong, in the command line's terms."""
        if not STAGE_NAME.match(stage or ""):
            raise ValueError(f"--stage must be 1-64 letters, digits, _ or -, got {stage!r}")
        pairs = [(key, batch[key]) for key in batch] if isinstance(batch, Mapping) else list(batch)
        if not pairs:
            raise ValueError("at least one --batch KEY=VALUE is required")
        values: Dict[str, str] = {}
        for key, value in pairs:
            if not BATCH_KEY.match(key):
                raise ValueError(f"--batch key must match [a-z_][a-z0-9_]*, got {key!r}")
            if key in values:
                raise ValueError(f"--batch key {key!r} given twice")
            if key in RESERVED_KEYS:
                raise ValueError(f"--batch key {key!r} is reserved (a field of the done marker)")
            if not BATCH_VALUE.match(value):
                raise ValueError(f"--batch {key} must be a plain path segment (letters, digits, _, -, ., not first a .), got {value!r}")
            values[key] = value
        if date_field not in values:
            raise ValueError(f"--date-field {date_field!r} is not a --batch key ({', '.join(values)})")
        if "date" in values and date_field != "date":  # the marker's date is the date field's value
            raise ValueError("--batch key 'date' is reserved (a field of the done marker) unless it is the --date-field")
        day = parse_date(values[date_field], f"--batch {date_field} (the --date-field)")
        keys = list(partition_by)
        for key in keys:
            if key not in values:
                raise ValueError(f"--partition-by {key!r} is not a --batch key ({', '.join(values)})")
        if len(set(keys)) != len(keys):
            raise ValueError(f"--partition-by lists a key twice: {','.join(keys)}")
        return StageContext(stage, roots, values, date_field, day, [(key, values[key]) for key in keys])
