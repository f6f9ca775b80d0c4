"""Row ids across chunks and inputs: an input's own id is kept as is, and ids never collide.

Every row has a locator id, `<source>:line<N>` (JSONL, CSV) or `<source>:row<N>` (JSON, Parquet, HF), unique
by construction. A kept row uses its own `id` field when it has one (explicit), else its locator id;
a rejected row always uses its locator id. An explicit id is a collision, and its row goes to the rejects
as `ingest:duplicate_id` (with its locator id, naming both rows' places), when it equals
  (a) the explicit id of an earlier row, or
  (b) the locator id of any other row (kept or rejected, of any input).
After that every id is unique across kept and rejected rows: kept explicit ids differ from each other and
from every other row's locator id, and locator ids differ from each other.

One chunk cannot see another's ids, so this runs once over the `id_keys` of all chunks (a few short strings
per row): `dups = duplicate_id_rejects(pl.concat(keys))`, then `apply_duplicate_ids(result, dups)` per chunk.
Over a run's chunk files, `collision_candidates` first narrows the keys to the rows whose id hashes collide
(8 bytes a row in memory), so settling ids of millions of rows does not hold all their strings.
"""

from __future__ import annotations

import polars as pl

from dsforge.pipelines.core import records
from dsforge.pipelines.core.readers.spec import DataError, ReadResult


def duplicate_id_rejects(keys: pl.DataFrame) -> pl.DataFrame:
    """Given id_keys of every chunk in order, the rows that must move to the rejects: locator_id, detail.

    Raises DataError when two inputs produce the same locator ids (same `source:` name)."""
    k = keys.with_row_index("order")
    if k["locator_id"].is_duplicated().any():
        dup = k.filter(pl.col("locator_id").is_duplicated()).sort("order")
        raise DataError(f"{dup['where'][0]} and {dup['where'][1]} both have the generated id "
                        f"{dup['locator_id'][0]!r}: give each input its own `source:` name")
    exp = k.filter(pl.col("explicit") & (pl.col("id") != pl.col("locator_id")))
    earlier = (exp.sort("order").group_by("id", maintain_order=True)
               .agg(pl.col("order").first().alias("first"), pl.col("where").first().alias("first_where")))
    repeat = (exp.join(earlier, on="id").filter(pl.col("order") != pl.col("first"))
              .select("order", "locator_id", (pl.col("where") + pl.lit(": id '") + pl.col("id")
                                              + pl.lit("' is already the id of ") + pl.col("first_where")).alias("detail")))
    named = k.select(pl.col("locator_id").alias("other"), pl.col("where").alias("other_where"))
    generated = (exp.join(named, left_on="id", right_on="other")
                 .select("order", "locator_id", (pl.col("where") + pl.lit(": id '") + pl.col("id")
                                                 + pl.lit("' is the generated id of ") + pl.col("other_where"))
                         .alias("detail")))
    both = pl.concat([generated, repeat]).sort("order").unique("locator_id", keep="first", maintain_order=True)
    return both.select("locator_id", "detail")


def collision_candidates(files: list) -> pl.DataFrame:
    """The id_keys rows (in order) that may take part in a collision: those whose locator id, or explicit id,
    hashes to a value that occurs twice among all locator ids and explicit ids. `duplicate_id_rejects` over
    them gives the same rows as over every key: a collision is two equal strings, hence two equal hashes."""
    scan = pl.scan_parquet(files)
    own = pl.col("explicit") & (pl.col("id") != pl.col("locator_id"))
    loc_h, id_h = pl.col("locator_id").hash(seed=3), pl.col("id").hash(seed=3)
    hashes = pl.concat([scan.select(loc_h.alias("h")).collect(engine="streaming")["h"],
                        scan.filter(own).select(id_h.alias("h")).collect(engine="streaming")["h"]])
    clash = hashes.filter(hashes.is_duplicated()).unique().implode()
    return scan.filter(loc_h.is_in(clash) | (own & id_h.is_in(clash))).collect(engine="streaming")


def apply_duplicate_ids(result: ReadResult, dups: pl.DataFrame, strict: bool = False) -> ReadResult:
    """Move the kept rows named in `dups` to the rejects (reason ingest:duplicate_id, id = locator id)."""
    if result.id_keys is None or not dups.height or not result.kept.height:
        return result
    kept_keys = result.id_keys.head(result.kept.height).select("locator_id", "position")
    hit = kept_keys.join(dups, on="locator_id", how="left")["detail"]
    mask = hit.is_not_null()
    if not mask.any():
        return result
    if strict:
        raise DataError(hit.drop_nulls()[0])
    moved = result.kept.filter(mask).with_columns(kept_keys.filter(mask)["locator_id"].alias("id"))
    rejected = records.rejects(moved, "ingest", "ingest:duplicate_id", hit.filter(mask))
    kept = result.kept.filter(~mask)
    # Rejected rows stay in file order, so chunked and whole reads give the same table.
    order = pl.concat([result.id_keys.tail(result.rejected.height)["position"], kept_keys.filter(mask)["position"]])
    rejected = (records.concat([result.rejected, records.conform(rejected)], rejected=True)
                .with_columns(order.alias("__pos")).sort("__pos").drop("__pos"))
    return ReadResult(
        kept=kept,
        rejected=rejected,
        manifest=[m | {"rows_kept": kept.height, "rows_rejected": rejected.height} for m in result.manifest],
        id_keys=result.id_keys,
    )
