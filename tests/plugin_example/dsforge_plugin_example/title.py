"""title: a short title for each row, written by a model (an LLM task in two methods; its prompt is package data)."""

from __future__ import annotations

from pydantic import Field

from dsforge.pipelines.llm.task import LLMConfig, LLMStage, Messages, PromptTemplate, Unusable, user
from dsforge.pipelines.core.row_text import text_of


class TitleConfig(LLMConfig):                     # model: and sampling: come with LLMConfig
    template: str = Field("title_v1", description="prompt id (prompts/ beside this module) or .jinja file")
    max_words: int = Field(8, ge=1, description="longer titles are rejected as title:too_long")


class Title(LLMStage[TitleConfig]):
    """Give each row a short title written by the model."""
    name = "title"
    Config = TitleConfig
    mode = "rows"                                 # rows are independent
    batch_size = 64                               # rows per task; one model per worker (holds_model: LLMStage)
    output_column = "title"                       # the default process writes each parsed reply here

    def format_input(self, row: dict, template: PromptTemplate) -> Messages:
        return user(template.render(prompt=text_of(row, "prompt")))

    def parse_output(self, text: str, row: dict) -> str:
        title = text.strip().strip('"').splitlines()[0].strip() if text.strip() else ""
        if not title:
            raise Unusable("empty", "the model wrote no title")
        if len(title.split()) > self.config.max_words:
            raise Unusable("too_long", f"{len(title.split())} words > max_words {self.config.max_words}")
        return title
