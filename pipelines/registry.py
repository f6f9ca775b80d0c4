"""The list of stages: recipe name -> where its class lives.

Explicit on purpose (no self-registration): to add a stage, write its class and add one line here.
Classes are imported only when used, so `dsforge --help` stays fast and heavy dependencies (torch,
presidio, vLLM) load only for the stages that need them.
"""

from __future__ import annotations

import importlib

from dsforge.pipelines.stage import ConfigError, Stage

STAGES: dict[str, str] = {
    # spine
    "ingest": "dsforge.pipelines.ingest:Ingest",
    "exact-dedup": "dsforge.dedup.exact:ExactDedup",
    "length-filter": "dsforge.filters.length:LengthFilter",
    "chat-format": "dsforge.pipelines.chat_format:ChatFormat",
    "save": "dsforge.pipelines.publish:Save",
    # inspection (issue 3)
    "inspect": "dsforge.pipelines.inspect.stage:Inspect",
    # dedup (issue 4)
    "minhash-dedup": "dsforge.dedup.minhash:MinhashDedup",
    "semantic-dedup": "dsforge.dedup.semantic:SemanticDedup",
    "repetition-filter": "dsforge.dedup.repetition:RepetitionFilter",
    "decontaminate": "dsforge.dedup.decontaminate:Decontaminate",
    # filters (issue 5)
    "clean-markup": "dsforge.filters.markup:CleanMarkup",
    "pii": "dsforge.filters.pii:Pii",
    "quality-filter": "dsforge.filters.quality:QualityFilter",
    "language-filter": "dsforge.filters.language:LanguageFilter",
    "rules": "dsforge.filters.rules:Rules",
    # synthesis (issue 7)
    "self-instruct": "dsforge.synth.self_instruct:SelfInstruct",
    "topic-tree": "dsforge.synth.topic_tree:TopicTree",
    "backtranslate-instructions": "dsforge.synth.backtranslate:BacktranslateInstructions",
    "paraphrase": "dsforge.synth.paraphrase:Paraphrase",
    "translate": "dsforge.synth.translate:Translate",
    "dialogue": "dsforge.synth.dialogue:Dialogue",
    "long-context-qa": "dsforge.synth.long_context:LongContextQA",
    "code": "dsforge.synth.code:Code",
    "rule-augment": "dsforge.synth.rule_augment:RuleAugment",
    "preference-pairs": "dsforge.synth.preference:PreferencePairs",
    # verification, formatting, publishing (issue 8)
    "execute": "dsforge.validators.execute:Execute",
    "math-answer": "dsforge.validators.math_answer:MathAnswer",
    "anomaly": "dsforge.validators.anomaly:Anomaly",
    "judge": "dsforge.validators.judge:Judge",
    "faithfulness": "dsforge.validators.faithfulness:Faithfulness",
    "relevance": "dsforge.validators.relevance:Relevance",
    "split": "dsforge.pipelines.split:Split",
    "publish": "dsforge.pipelines.publish:Publish",
    # coverage, mix and quantity (issue 18)
    "classify": "dsforge.filters.curate.classify:Classify",
    "mix": "dsforge.filters.curate.mix:Mix",
    "ladder": "dsforge.filters.curate.ladder:Ladder",
    "quality-classifier": "dsforge.filters.curate.quality_classifier:QualityClassifier",
    # review labels fed back (issue 19)
    "annotations": "dsforge.pipelines.review.stage:Annotations",
    # prove the data (issue 33): small-model ablations over the steps of a run
    "ablate": "dsforge.validators.ablate.stage:Ablate",
}


def stage_class(name: str) -> type[Stage]:
    """The class of a stage by its recipe name; a clear error with close matches for a typo."""
    target = STAGES.get(name)
    if target is None:
        import difflib

        close = difflib.get_close_matches(name, STAGES, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown stage {name!r}.{hint} Run `dsforge stages` to list them.")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def all_stages() -> dict[str, type[Stage]]:
    return {name: stage_class(name) for name in STAGES}
