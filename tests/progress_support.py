"""A :class:`operational.progress.Progress` that records what long work reported, for tests."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Stage:
    key: str
    total: int | None
    params: dict[str, object]
    advances: list[tuple[int, str | None]] = field(default_factory=list)
    ended: str | None = None  # "done" | "failed"

    @property
    def done(self) -> int:
        return sum(amount for amount, _ in self.advances)

    @property
    def items(self) -> list[str | None]:
        return [item for _, item in self.advances]


@dataclass
class Recorder:
    stages: list[Stage] = field(default_factory=list)

    def begin(self, key: str, total: int | None, /, **params: object) -> None:
        assert not self.stages or self.stages[-1].ended, "stages never nest"
        self.stages.append(Stage(key, total, params))

    def advance(self, amount: int, /, item: str | None = None) -> None:
        assert self.stages and not self.stages[-1].ended, "advance outside a stage"
        self.stages[-1].advances.append((amount, item))

    def end(self, failed: bool = False) -> None:
        assert self.stages and not self.stages[-1].ended, "end outside a stage"
        self.stages[-1].ended = "failed" if failed else "done"

    @property
    def keys(self) -> list[str]:
        return [stage.key for stage in self.stages]

    def stage(self, key: str) -> Stage:
        (found,) = [stage for stage in self.stages if stage.key == key]
        return found
