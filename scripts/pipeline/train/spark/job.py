"""Runs the training plan on Apache Spark: the same SQL statements DuckDB runs.

`npm run train -- --engine spark` writes a job spec (JSON) and starts this file with the
project's pyspark (local mode, `--master local[2]` by default); on a cluster, submit it
with spark-submit and the spec (see docs/pipeline.md). The spec names the lake's live
Parquet files (the snapshot: never a directory glob, which would also read uncommitted
or replaced files), the statements in order, the tables to write back, and where.

    spark-submit --master yarn job.py spec.json
"""
import json
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql.types import StringType, StructField, StructType


def main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    builder = SparkSession.builder.appName("edge-recs-train")
    if spec.get("master"):
        builder = builder.master(spec["master"])
    for key, value in spec.get("conf", {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    started = time.time()

    files = spec["files"]
    if files:
        events = spark.read.option("basePath", spec["base_path"]).parquet(*files)
    else:
        events = spark.createDataFrame([], spec["empty_schema"])
    if spec.get("where"):
        events = events.where(spec["where"])
    events.createOrReplaceTempView("events")

    catalog_schema = StructType([StructField("item", StringType()), StructField("category", StringType())])
    if spec.get("catalog"):
        catalog = spark.read.schema(catalog_schema).json(spec["catalog"])
    else:
        catalog = spark.createDataFrame([], catalog_schema)
    catalog.createOrReplaceTempView("catalog_categories")

    if spec.get("checkpoint_dir"):
        spark.sparkContext.setCheckpointDir(spec["checkpoint_dir"])
    for statement in spec["statements"]:
        t0 = time.time()
        try:
            # Each step is computed once and kept as a table whose plan is a leaf. A cached
            # view (CACHE TABLE) keeps the plan of every step under it instead, and a later
            # query is matched against the cache by comparing those plans: with the steps
            # read twice (self-joins) the plans double at each level, and planning, not
            # computing, took most of the time (a 2k-event lake: 15 minutes, the last
            # steps ~50 s each). A checkpoint cuts the lineage: local (executors' memory
            # and disk) by default, reliable in `checkpoint_dir` (a cluster's HDFS or
            # object store) when one is given, so a lost executor does not fail the job.
            table = spark.sql(statement["sql"])
            if spec.get("checkpoint_dir"):
                table = table.checkpoint(eager=True)
            else:
                table = table.localCheckpoint(eager=True)
            table.createOrReplaceTempView(statement["name"])
        except Exception as error:  # noqa: BLE001 - reported to the Node side, which fails the run
            print(json.dumps({"failed": statement["name"], "error": str(error)[:4000]}), flush=True)
            spark.stop()
            sys.exit(1)
        print(json.dumps({"step": statement["name"], "seconds": round(time.time() - t0, 3)}), flush=True)

    for name in spec["outputs"]:
        spark.table(name).write.mode("overwrite").parquet(f"{spec['out_dir']}/{name}")
    print(json.dumps({"done": True, "seconds": round(time.time() - started, 3)}), flush=True)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
