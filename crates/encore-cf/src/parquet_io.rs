//! Factors as Parquet, in the layout Spark MLlib's `ALSModel.save` writes:
//! `DIR/userFactors/*.parquet` and `DIR/itemFactors/*.parquet`, each with
//! the columns `id: int32` and `features: array<float>`. Factors trained on a
//! Spark cluster can be served by Encore, and Encore's can be loaded by Spark
//! (`ALSModel.load` also wants its `metadata/`, which [`export_spark`]
//! writes too).
//!
//! Ids are the store ids of users and songs: train Spark on a table exported
//! with those ids (`encore export interactions`).

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Float32Builder, ListBuilder};
use arrow_array::{Array, Float32Array, Float64Array, Int32Array, Int64Array, ListArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::model::{CfModel, TrainMetrics};
use crate::{AlsConfig, Error, Result};

fn artifact(path: &Path, reason: impl Into<String>) -> Error {
    Error::Artifact { path: path.to_path_buf(), reason: reason.into() }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io { path: path.to_path_buf(), source: e }
}

/// Writes one factor table (`id`, `features`) to `path`.
pub fn write_factors(path: &Path, ids: &[i64], factors: &[f32], k: usize) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("features", DataType::List(Arc::new(Field::new("element", DataType::Float32, false))), true),
    ]));
    let id32: Vec<i32> = ids
        .iter()
        .map(|&id| i32::try_from(id).map_err(|_| artifact(path, format!("id {id} does not fit Spark's int32 ids"))))
        .collect::<Result<_>>()?;
    let mut list = ListBuilder::new(Float32Builder::with_capacity(factors.len())).with_field(Arc::new(Field::new(
        "element",
        DataType::Float32,
        false,
    )));
    for row in factors.chunks(k) {
        list.values().append_slice(row);
        list.append(true);
    }
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(id32)), Arc::new(list.finish())])
        .map_err(|e| artifact(path, e.to_string()))?;
    let file = File::create(path).map_err(|e| io(path, e))?;
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut w = ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| artifact(path, e.to_string()))?;
    w.write(&batch).map_err(|e| artifact(path, e.to_string()))?;
    w.close().map_err(|e| artifact(path, e.to_string()))?;
    Ok(())
}

/// The Parquet files of a table: `path` itself, or every `*.parquet` in the
/// directory `path` (Spark's `part-*` files), sorted.
fn parts(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut v: Vec<PathBuf> = fs::read_dir(path)
        .map_err(|e| io(path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    v.sort();
    if v.is_empty() {
        return Err(artifact(path, "no .parquet files"));
    }
    Ok(v)
}

/// Reads a factor table: ids (sorted ascending), row-major factors, rank.
pub fn read_factors(path: &Path) -> Result<(Vec<i64>, Vec<f32>, usize)> {
    let mut rows: Vec<(i64, Vec<f32>)> = Vec::new();
    for part in parts(path)? {
        let file = File::open(&part).map_err(|e| io(&part, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| artifact(&part, e.to_string()))?;
        for batch in reader {
            let batch = batch.map_err(|e| artifact(&part, e.to_string()))?;
            let ids = batch.column_by_name("id").ok_or_else(|| artifact(&part, "no `id` column"))?;
            let ids: Vec<i64> = if let Some(a) = ids.as_any().downcast_ref::<Int32Array>() {
                a.values().iter().map(|&v| v as i64).collect()
            } else if let Some(a) = ids.as_any().downcast_ref::<Int64Array>() {
                a.values().to_vec()
            } else {
                return Err(artifact(&part, format!("`id` is {}, expected int32", ids.data_type())));
            };
            let feats = batch.column_by_name("features").ok_or_else(|| artifact(&part, "no `features` column"))?;
            let feats = feats.as_any().downcast_ref::<ListArray>().ok_or_else(|| {
                artifact(&part, format!("`features` is {}, expected array<float>", feats.data_type()))
            })?;
            for (r, id) in ids.into_iter().enumerate() {
                if feats.is_null(r) {
                    return Err(artifact(&part, format!("id {id} has no features")));
                }
                let v = feats.value(r);
                let row: Vec<f32> = if let Some(a) = v.as_any().downcast_ref::<Float32Array>() {
                    a.values().to_vec()
                } else if let Some(a) = v.as_any().downcast_ref::<Float64Array>() {
                    a.values().iter().map(|&x| x as f32).collect()
                } else {
                    return Err(artifact(&part, format!("features are {}, expected float", v.data_type())));
                };
                rows.push((id, row));
            }
        }
    }
    let k = rows.first().map_or(0, |r| r.1.len());
    if k == 0 {
        return Err(artifact(path, "no factors"));
    }
    if let Some(bad) = rows.iter().find(|r| r.1.len() != k) {
        return Err(artifact(path, format!("id {} has {} features, others {k}", bad.0, bad.1.len())));
    }
    rows.sort_by_key(|r| r.0);
    if rows.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(artifact(path, "duplicate ids"));
    }
    let ids = rows.iter().map(|r| r.0).collect();
    let factors = rows.into_iter().flat_map(|r| r.1).collect();
    Ok((ids, factors, k))
}

/// Writes `model` in Spark's `ALSModel` layout under `dir`.
pub fn export_spark(model: &CfModel, dir: &Path) -> Result<()> {
    let k = model.factors();
    for (sub, ids, f) in [
        ("userFactors", model.user_ids(), model.user_factors()),
        ("itemFactors", model.item_ids(), model.item_factors()),
    ] {
        let d = dir.join(sub);
        fs::create_dir_all(&d).map_err(|e| io(&d, e))?;
        write_factors(&d.join("part-00000.parquet"), ids, f, k)?;
    }
    let meta = dir.join("metadata");
    fs::create_dir_all(&meta).map_err(|e| io(&meta, e))?;
    let json = serde_json::json!({
        "class": "org.apache.spark.ml.recommendation.ALSModel",
        "timestamp": 0, "sparkVersion": "3.5.0", "uid": "encore-export",
        "paramMap": { "userCol": "user", "itemCol": "item", "predictionCol": "prediction", "coldStartStrategy": "nan", "blockSize": 4096 },
        "defaultParamMap": {},
        "rank": k,
    });
    let p = meta.join("part-00000");
    fs::write(&p, format!("{json}\n")).map_err(|e| io(&p, e))?;
    Ok(())
}

/// Reads a model saved by Spark's `ALSModel.save` (or [`export_spark`]).
/// Fold-in and explanations use an ALS user step with `regularization`.
pub fn import_spark(dir: &Path, regularization: f32) -> Result<CfModel> {
    let (user_ids, x, k) = read_factors(&dir.join("userFactors"))?;
    let (item_ids, y, k2) = read_factors(&dir.join("itemFactors"))?;
    if k != k2 {
        return Err(artifact(dir, format!("user rank {k} differs from item rank {k2}")));
    }
    let cfg = AlsConfig { factors: k, regularization, ..AlsConfig::default() };
    Ok(CfModel::new(cfg, k, x, y, user_ids, item_ids, TrainMetrics::default()).with_algorithm("spark-als"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use encore_types::InteractionsBuilder;
    use rand::SeedableRng;

    #[test]
    fn spark_layout_round_trips() {
        let mut b = InteractionsBuilder::new(vec![3, 7, 9], vec![10, 20, 30, 40]);
        b.push_row(&[(0, 2.0, 0, 0), (1, 1.0, 0, 0)]);
        b.push_row(&[(1, 3.0, 0, 0), (2, 1.0, 0, 0)]);
        b.push_row(&[(3, 1.0, 0, 0)]);
        let m = b.finish();
        let cfg = AlsConfig { factors: 5, iterations: 3, ..AlsConfig::default() };
        let model = cfg.fit(&m, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1), &mut |_| {}).unwrap();
        let dir = tempfile::tempdir().unwrap();
        export_spark(&model, dir.path()).unwrap();
        let back = import_spark(dir.path(), cfg.regularization).unwrap();
        assert_eq!(back.user_ids(), model.user_ids());
        assert_eq!(back.item_ids(), model.item_ids());
        assert_eq!(back.user_factors(), model.user_factors());
        assert_eq!(back.item_factors(), model.item_factors());
        assert_eq!(back.recommend(1, 2, &[]).unwrap(), model.recommend(1, 2, &[]).unwrap());
        // Schema checks: a table without `features` is refused.
        assert!(read_factors(&dir.path().join("metadata")).is_err());
    }
}
