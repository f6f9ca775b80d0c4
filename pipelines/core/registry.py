"""The list of stages: recipe name -> where its class lives.

Explicit on purpose (no self-registration): to add a stage to dsforge, write its class and add one line
here; to add one from your own package, declare it under the entry-point group `dsforge.stages`
(plugins.py), or name its class in the recipe (`stage: my_pkg.stages:KeywordDrop`). Classes are imported
only when used, so `dsforge --help` stays fast and heavy dependencies (torch, presidio, vLLM) load only
for the stages that need them.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass

from dsforge.pipelines.core import plugins
from dsforge.pipelines.core.stage import ConfigError, Stage, check_mode

STAGES: dict[str, str] = {
    # spine
    "ingest": "dsforge.pipelines.stages.ingest:Ingest",
    "exact-dedup": "dsforge.dedup.exact:ExactDedup",
    "length-filter": "dsforge.filters.length:LengthFilter",
    "chat-format": "dsforge.pipelines.stages.chat_format:ChatFormat",
    "save": "dsforge.pipelines.stages.publish:Save",
    # inspection (issue 3)
    "inspect": "dsforge.pipelines.stages.inspect.stage:Inspect",
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
    "split": "dsforge.pipelines.stages.split:Split",
    "publish": "dsforge.pipelines.stages.publish:Publish",
    # coverage, mix and quantity (issue 18)
    "classify": "dsforge.filters.curate.classify:Classify",
    "mix": "dsforge.filters.curate.mix:Mix",
    "ladder": "dsforge.filters.curate.ladder:Ladder",
    "quality-classifier": "dsforge.filters.curate.quality_classifier:QualityClassifier",
    # review labels fed back (issue 19)
    "annotations": "dsforge.pipelines.stages.annotations:Annotations",
    # prove the data (issue 33): small-model ablations over the steps of a run
    "ablate": "dsforge.validators.ablate.stage:Ablate",
}


@dataclass(frozen=True)
class StageEntry:
    """Where a stage comes from: `target` is "module:Class"; `plugin` is set for another package's stage."""

    name: str
    target: str
    plugin: plugins.Plugin | None = None

    @property
    def origin(self) -> str:
        return self.plugin.origin if self.plugin else "dsforge"


def stage_entries() -> dict[str, StageEntry]:
    """Every stage a recipe may name: the built-in table, then installed plugins (a built-in name wins)."""
    entries = {name: StageEntry(name, target) for name, target in STAGES.items()}
    for name, plugin in plugins.plugins(plugins.STAGE_GROUP, frozenset(STAGES)).items():
        entries[name] = StageEntry(name, plugin.target, plugin)
    return entries


def stage_class(name: str) -> type[Stage]:
    """The class of a stage by its recipe name or `module:Class`; a clear error with close matches for a typo."""
    if ":" in name:
        return _checked(plugins.load_object(name), name, None)
    entries = stage_entries()
    entry = entries.get(name)
    if entry is None:
        close = difflib.get_close_matches(name, entries, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown stage {name!r}.{hint} Run `dsforge stages` to list them.")
    if entry.plugin is not None:
        return _checked(entry.plugin.load(), name, entry.plugin)
    module, cls = entry.target.split(":")
    klass = getattr(importlib.import_module(module), cls)
    check_mode(klass)
    return klass


def _checked(obj: object, name: str, plugin: plugins.Plugin | None) -> type[Stage]:
    """A stage class from outside the table must be one, and carry the name its rejects and steps use."""
    where = f"{name} (package {plugin.origin})" if plugin else name
    if not (isinstance(obj, type) and issubclass(obj, Stage)):
        raise ConfigError(f"stage {where}: {obj!r} is not a subclass of dsforge.pipelines.core.stage.Stage")
    if not obj.name:
        raise ConfigError(f"stage {where}: the class sets no `name` (its rejects are named `<name>:<reason>`)")
    if plugin is not None and obj.name != name:
        raise ConfigError(f"stage {where}: the entry point is named {name!r} but the class's name is "
                          f"{obj.name!r}; make them equal")
    try:
        check_mode(obj)
    except ConfigError as e:
        raise ConfigError(f"{e}" + (f" [from {plugin.origin}]" if plugin else ""), hint=e.hint) from None
    return obj
