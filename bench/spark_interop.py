#!/usr/bin/env python3
"""Trains Spark MLlib's implicit ALS (local mode, bound to 127.0.0.1) on the
interactions Encore exported, saves the model (userFactors/, itemFactors/,
metadata/) and writes Spark's recommendForAllUsers top-10 for a sample of
users, so bench/spark_interop.sh can ask Encore for the same users.

Usage: spark_interop.py INTERACTIONS_CSV MODEL_DIR TOP10_JSON
"""
import json
import sys

from pyspark.ml.recommendation import ALS
from pyspark.sql import SparkSession

csv, model_dir, out = sys.argv[1:4]
spark = (
    SparkSession.builder.master("local[2]")
    .appName("encore-interop")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "4")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.csv(csv, header=True, inferSchema=True).where("plays > 0")
als = ALS(implicitPrefs=True, rank=16, maxIter=10, regParam=0.1, alpha=1.0,
          userCol="user", itemCol="item", ratingCol="plays", seed=1)
model = als.fit(df)
model.write().overwrite().save(model_dir)
users = [r.user for r in df.select("user").distinct().orderBy("user").limit(50).collect()]
recs = model.recommendForUserSubset(spark.createDataFrame([(u,) for u in users], ["user"]), 10).collect()
top = {str(r.user): [x.item for x in r.recommendations] for r in recs}
json.dump(top, open(out, "w"))
print(json.dumps({"spark": spark.version, "users": len(top), "rank": 16}))
spark.stop()
