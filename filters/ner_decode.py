"""spaCy's greedy NER decoding for a whole batch at once, in numpy: the same entities, a fraction of the time.

Why: en_core_web_sm's NER spent about 7.5 of its 11 seconds on bench/pii.py's 3,000 texts in spaCy's
transition loop (`Parser.greedy_parse`), which asks each of 74 moves whether it is valid, one state and one
token at a time, through accessors that take a lock. Here every step of every document of the batch is a
few array operations:
  - the same layers, called as spaCy calls them: the NER's own tok2vec (with its projection), the
    precomputed feature layer (`lower`), the output layer's product through the same `blis` sgemm;
  - the same float32 sums in the same order (the three state features B0, E0, B0-1 or the padding, then
    the bias), maxout, and the first highest valid score;
  - the BILUO rules of spacy/pipeline/_parser_internals/ner.pyx for a text that was only tokenised: no
    preset entities and no sentence boundaries, so a move's validity depends on whether an entity is open
    (and its label), how many tokens are left, and whether the token is whitespace.
tests/test_ner_decode.py checks that every text of bench/pii_eval's dev and held-out sets gets exactly
spaCy's entities.

Not here: beam search, preset entities or sentence starts (another component before `ner`), an NER that
listens to a shared tok2vec, unseen classes, GPU ops, other feature sets than the NER's three.
`BatchNer.supports(nlp)` says no for those, and the caller runs spaCy's own loop.
"""

from __future__ import annotations

import numpy
from spacy.attrs import ENT_IOB, IS_SPACE, SENT_START
from spacy.tokens import Span

_KINDS = {"B": 0, "I": 1, "L": 2, "U": 3, "O": 4}
_NEVER = 5  # spaCy's internal "U-" move (label 0): valid only on a preset blocked token, which never occurs here


class BatchNer:
    """Runs `nlp`'s `ner` on tokenised Docs and returns, per Doc, its entities as spaCy Spans."""

    def __init__(self, nlp):
        ner = nlp.get_pipe("ner")
        model = ner.model
        self.tok2vec, self.lower, self.upper = (model.get_ref(n) for n in ("tok2vec", "lower", "upper"))
        names = [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]
        kinds, labels = [], []
        self.label_names: list[str] = []
        for name in names:
            kind, _, label = name.partition("-")
            kinds.append(_NEVER if name == "U-" else _KINDS[kind])
            if label and label not in self.label_names:
                self.label_names.append(label)
            labels.append(self.label_names.index(label) if label else -1)
        kinds = numpy.array(kinds)
        self.labels = numpy.array(labels)
        self.is_b, self.is_i, self.is_l, self.is_u, self.is_o = (kinds == k for k in range(5))
        self.weights = numpy.ascontiguousarray(self.upper.get_param("W"), dtype="f")
        self.out_bias = self.upper.get_param("b")
        self.feat_bias = self.lower.get_param("b").reshape(-1)

    @staticmethod
    def supports(nlp) -> bool:
        """Whether `nlp`'s NER is the architecture this decoder reproduces (otherwise use spaCy's loop)."""
        try:
            ner = nlp.get_pipe("ner")
            model = ner.model
            lower, upper = model.get_ref("lower"), model.get_ref("upper")
        except (KeyError, ValueError, AttributeError):
            return False
        return (nlp.pipe_names == ["ner"] and ner.cfg.get("beam_width", 1) == 1
                and model.attrs.get("has_upper") and not model.attrs.get("unseen_classes")
                and type(model.ops).__name__ != "CupyOps"
                and lower.get_dim("nF") == 3 and lower.get_dim("nP") >= 2
                and upper.get_dim("nO") == ner.moves.n_moves
                and not any(getattr(layer, "name", "") == "tok2vec-listener" for layer in model.walk()))

    def __call__(self, docs: list) -> list[list[Span]]:
        lens = numpy.array([len(d) for d in docs])
        if not lens.sum():
            return [[] for _ in docs]
        offsets = numpy.concatenate([[0], numpy.cumsum(lens)[:-1]])
        flags = numpy.concatenate([d.to_array([IS_SPACE, ENT_IOB, SENT_START]) for d in docs if len(d)])
        sent_starts = flags[:, 2] == 1
        sent_starts[offsets[lens > 0]] = False  # a Doc's first token always starts a sentence
        if flags[:, 1].any() or sent_starts.any():
            raise ValueError("BatchNer needs freshly tokenised Docs (no preset entities, no sentence starts)")
        is_space = flags[:, 0].astype(bool)
        tokvecs = self.tok2vec.predict(docs)
        cached = self.lower.predict(tokvecs)  # row 0 is the padding, then one row per token of the batch
        cached = cached.reshape(cached.shape[0], cached.shape[1], -1)
        pad, feats = cached[0], cached[1:]
        nh, npieces = self.lower.get_dim("nO"), self.lower.get_dim("nP")
        pos = numpy.zeros(len(docs), dtype=int)
        open_label = numpy.full(len(docs), -1)
        ent_start = numpy.zeros(len(docs), dtype=int)
        found: list[list[tuple[int, int, int]]] = [[] for _ in docs]
        active = numpy.nonzero(lens > 0)[0]
        while active.size:
            g = offsets[active] + pos[active]  # the buffer's first token, in the batch's token rows
            opened = open_label[active] >= 0
            start = numpy.where(opened, offsets[active] + ent_start[active], 0)
            f1 = numpy.where(opened[:, None], feats[start, 1], pad[1])
            f2 = numpy.where(opened[:, None], feats[numpy.maximum(g - 1, 0), 2], pad[2])
            unmaxed = feats[g, 0] + f1
            unmaxed += f2
            unmaxed += self.feat_bias
            hidden = unmaxed.reshape(len(active), nh, npieces).max(axis=2)
            scores = _blis_gemm(hidden, self.weights)
            scores += self.out_bias
            left = (lens[active] - pos[active]) >= 2
            closed, space = ~opened, is_space[g]
            same = self.labels[None, :] == open_label[active][:, None]
            valid = ((self.is_b & (closed & left & ~space)[:, None]) | (self.is_u & (closed & ~space)[:, None])
                     | (self.is_o & closed[:, None]) | (self.is_i & same & (opened & left)[:, None])
                     | (self.is_l & same & opened[:, None]))
            guess = numpy.where(valid, scores, -numpy.inf).argmax(axis=1)
            label = self.labels[guess]
            begins = self.is_b[guess]
            open_label[active[begins]] = label[begins]
            ent_start[active[begins]] = pos[active[begins]]
            for row in numpy.nonzero(self.is_l[guess] | self.is_u[guess])[0]:
                d = active[row]
                first = pos[d] if self.is_u[guess[row]] else ent_start[d]
                found[d].append((int(first), int(pos[d]) + 1, int(label[row])))
            open_label[active[self.is_l[guess]]] = -1
            pos[active] += 1
            active = active[pos[active] < lens[active]]
        return [[Span(doc, s, e, label=self.label_names[lab]) for s, e, lab in ents] for doc, ents in zip(docs, found)]


def _blis_gemm(a, b):
    """a @ b.T through blis, the sgemm spaCy's parser uses, so the scores match it to the bit."""
    import blis.py

    return blis.py.gemm(numpy.ascontiguousarray(a, dtype="f"), b, trans2=True, beta=0.0)
