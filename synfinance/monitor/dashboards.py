"""SynFinance's Grafana dashboards, defined here as data and written as JSON by grafana-foundation-sdk.

    rendered()        # file name -> JSON; `synfinance docs build` writes them to monitoring/grafana/dashboards

Every panel's queries use only catalogue metrics (synfinance/observability/metrics.py), recording rules
(monitoring/prometheus/recording_rules.yml) and node-exporter series; tests run each query against a real
Prometheus. A panel that only has data under a fault names the fault (`fault`), and a fault test exercises it.
Windows are fixed ([5m]) rather than Grafana's $__rate_interval, so the same query runs in Grafana, in
Prometheus's API and in `synfinance monitor snapshot`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from synfinance.monitor.names import recorded, undefined

DATASOURCE_UID = "synfinance-prometheus"  # provisioned by monitoring/grafana/provisioning/datasources


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    description: str = ""
    kind: str = "timeseries"  # or "stat"
    fault: str | None = None  # the fault without which this panel has no data


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...] = field(default_factory=tuple)


def q(expr: str, legend: str = "") -> Query:
    return Query(expr, legend)


DASHBOARDS: tuple[Dashboard, ...] = (
    Dashboard("fraud-detection-overview", "SynFinance: fraud detection overview",
              "What the model decides and how right it is, from label feedback.", (
        Panel("Decisions per second", (q("sum by (decision) (synfinance:scores:rate5m)", "{{decision}}"),), "reqps"),
        Panel("Flagged share (review + decline)", (q("synfinance:flag_rate:ratio_rate5m", "flagged"),),
              "percentunit"),
        Panel("Fraud rate from feedback (1 h)", (q("synfinance:fraud_rate:ratio_1h", "fraud"),), "percentunit",
              kind="stat"),
        Panel("Fraud probability quantiles", tuple(
            q(f"histogram_quantile({p}, sum by (le) (rate(synfinance_fraud_probability_bucket[5m])))", f"p{pct}")
            for p, pct in ((0.5, 50), (0.9, 90), (0.99, 99))), "percentunit"),
        Panel("Recall by fraud type (feedback, 1 h)", (q("synfinance:recall_by_type:ratio_1h", "{{fraud_type}}"),),
              "percentunit"),
        Panel("F1 by fraud type (feedback, 1 h)", (q("synfinance:f1_by_type:ratio_1h", "{{fraud_type}}"),),
              "percentunit"),
        Panel("Feedback outcomes (1 h)", (q("sum by (outcome) (synfinance:feedback:increase1h)", "{{outcome}}"),)),
    )),
    Dashboard("api-performance", "SynFinance: API performance", "Traffic, errors and latency of the HTTP API.", (
        Panel("Requests per second by route", (q("synfinance:http_requests:rate5m", "{{route}}"),), "reqps"),
        Panel("Errors per second by kind", (q("sum by (route, kind) (rate(synfinance_http_errors_total[5m]))",
                                              "{{route}} {{kind}}"),), "reqps"),
        Panel("Latency p50 / p95 / p99", tuple(
            q(f"histogram_quantile({p}, sum by (le) (rate(synfinance_http_request_duration_seconds_bucket[5m])))",
              f"p{pct}") for p, pct in ((0.5, 50), (0.95, 95), (0.99, 99))), "s"),
        Panel("p95 latency by route", (q("synfinance:http_latency_seconds:p95_5m", "{{route}}"),), "s"),
        Panel("Requests in flight", (q("sum(synfinance_http_in_flight)", "in flight"),)),
        Panel("Batch size p95", (q("histogram_quantile(0.95, sum by (le, route) "
                                   "(rate(synfinance_http_batch_size_bucket[5m])))", "{{route}}"),)),
        Panel("Rejected fields (422) by field", (q("sum by (field) (rate(synfinance_http_validation_failures_total"
                                                   "[5m]))", "{{field}}"),), "reqps"),
        Panel("Rate-limited requests by key", (q("sum by (key) (rate(synfinance_rate_limited_total[5m]))",
                                                 "{{key}}"),), "reqps", fault="a key over its rate limit"),
        Panel("Database breaker open", (q('max(synfinance_breaker_open{dependency="database"})', "open"),),
              kind="stat", description="1 while PostgreSQL calls fail fast."),
    )),
    Dashboard("data-quality", "SynFinance: data quality", "Generated rows and served features against expectations.", (
        Panel("Missing values by field (1 h)", (q("synfinance:missing_values:ratio_1h > 0", "{{field}}"),),
              "percentunit", description="Fields null by design (festival, card_type, device fields) included."),
        Panel("Values checked (jobs of the last hour)",
              (q("sum(max_over_time(synfinance_data_values_total[1h]))", "values"),), kind="stat"),
        Panel("Amount outliers, robust z > 6 (jobs of the last hour)",
              (q("sum(max_over_time(synfinance_data_outliers_total[1h])) or "
                 "0 * sum(max_over_time(synfinance_data_values_total[1h]))", "outliers"),), kind="stat",
              description="0 when values were checked and none was an outlier."),
        Panel("Score drift (PSI)", (q("max by (model_version) (synfinance_score_psi)", "{{model_version}}"),)),
        Panel("Most drifted features (PSI)", (q("topk(10, max by (feature) (synfinance_feature_psi))",
                                                "{{feature}}"),)),
        Panel("Quality score (last `quality run`)", (q("max(synfinance_quality_score)", "score"),), kind="stat",
              description="Pushed by `synfinance quality run`; 0-100 (docs/quality.md)."),
        Panel("Quality violations by severity (last run)",
              (q("max by (severity) (synfinance_quality_violations)", "{{severity}}"),)),
        Panel("Quality gates failed (last run)", (q("max by (blocking) (synfinance_quality_gates_failed)",
                                                    "blocking={{blocking}}"),), kind="stat"),
    )),
    Dashboard("system-health", "SynFinance: system health", "Nodes and processes.", (
        Panel("Node CPU busy", (q('1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))',
                                  "{{instance}}"),), "percentunit"),
        Panel("Node memory used", (q("1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
                                     "{{instance}}"),), "percentunit"),
        Panel("Disk free", (q('min by (instance) (node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|squashfs|nsfs"}'
                              ' / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|squashfs|nsfs"})',
                              "{{instance}}"),), "percentunit"),
        Panel("Process memory by component", (q("sum by (component) (synfinance_process_resident_memory_bytes)",
                                                "{{component}}"),), "bytes",
              description="SynFinance's processes inside Ray; Ray's own are on Ray's dashboard."),
        Panel("Process CPU by component", (q("sum by (component) (rate(synfinance_process_cpu_seconds_total[5m]))",
                                             "{{component}}"),), "percentunit"),
        Panel("Scrape targets up", (q("sum by (job) (up)", "{{job}}"),), kind="stat"),
    )),
    Dashboard("ml-model-performance", "SynFinance: model performance", "The served model against its test weeks.", (
        Panel("Model loaded", (q("max by (model_version) (synfinance_model_loaded)", "{{model_version}}"),),
              kind="stat"),
        Panel("Precision: feedback vs test weeks", (
            q("synfinance:precision:ratio_1h", "feedback {{model_version}}"),
            q('synfinance:model_test_metric:max{metric="precision"}', "test {{model_version}}")), "percentunit"),
        Panel("Recall: feedback vs test weeks", (
            q("synfinance:recall:ratio_1h", "feedback {{model_version}}"),
            q('synfinance:model_test_metric:max{metric="recall"}', "test {{model_version}}")), "percentunit"),
        Panel("Anomaly score p90", (q("histogram_quantile(0.9, sum by (le) (rate(synfinance_anomaly_score_bucket"
                                      "[5m])))", "p90"),)),
        Panel("Feature-store hit rate", (q("synfinance:feature_store_hit:ratio_rate10m", "hits"),), "percentunit"),
        Panel("Feature-store customers", (q("sum(max by (shard) (synfinance_feature_store_customers))",
                                            "customers"),), kind="stat"),
    )),
    Dashboard("ray-pipeline", "SynFinance: Ray pipeline", "Generation jobs on Ray actors, and batch jobs pushed.", (
        Panel("Rows generated per second by worker", (q("synfinance:rows_generated:rate5m", "{{worker}}"),)),
        Panel("Rows per second of the running job", (q("max(synfinance_pipeline_rows_per_second)", "rows/s"),)),
        Panel("Shard time p95 (jobs of the last hour)", tuple(
            q(f"histogram_quantile(0.95, sum by (le) (max_over_time(synfinance_pipeline_{name}_seconds_bucket[1h])))",
              legend) for name, legend in (("shard", "generate"), ("write", "write"), ("feature", "features"))), "s",
              description="Shard workers live for one job: each worker's final histogram, summed."),
        Panel("Shards in flight", (q("max(synfinance_pipeline_in_flight)", "in flight"),)),
        Panel("Worker restarts and shard retries (15 m)", (
            q("sum(synfinance:pipeline_worker_restarts:increase15m)", "restarts"),
            q("sum(synfinance:pipeline_shard_retries:increase15m)", "retries")), fault="a shard worker dying mid-run"),
        Panel("Batch jobs: last run", (q("max by (job) (synfinance_job_duration_seconds)", "{{job}}"),), "s",
              kind="stat", description="Pushed to the Pushgateway when a job ends."),
    )),
    Dashboard("campaigns-and-models", "SynFinance: campaigns and models",
              "Champion against challenger, recall per fraud type as campaigns come, feedback lag, promotions.", (
        Panel("Decisions: champion and challenger (per second)", (
            q("sum by (model_version, decision) (synfinance:scores:rate5m)", "champion {{model_version}} {{decision}}"),
            q("sum by (model_version, decision) (rate(synfinance_shadow_scores_total[5m]))",
              "shadow {{model_version}} {{decision}}")), "reqps",
              description="The challenger's decisions are what it would have decided; the champion's decide.",
              fault="a challenger in shadow"),
        Panel("Challenger agreement with the champion", (
            q('sum by (challenger) (synfinance_shadow_agreement_total{agree="yes"}) / '
              "sum by (challenger) (synfinance_shadow_agreement_total)", "{{challenger}}"),),
              "percentunit", description="Since the scorers started: the share of shadow-scored transactions "
                                         "the challenger decided as the champion did.",
              fault="a challenger in shadow"),
        Panel("Recall by fraud type (feedback, 1 h)", (
            q("synfinance:recall_by_type:ratio_1h", "{{fraud_type}} {{model_version}}"),), "percentunit",
              description="A new campaign's type shows as a line near 0 (alert SynFinanceFraudTypeMissed)."),
        Panel("Precision by model version (feedback, 1 h)", (
            q("synfinance:precision:ratio_1h", "{{model_version}}"),), "percentunit"),
        Panel("Feedback lag p50 / p95", tuple(
            q(f"histogram_quantile({p}, sum by (le) (synfinance_feedback_lag_seconds_bucket))", f"p{pct}")
            for p, pct in ((0.5, 50), (0.95, 95))), "s",
              description="From a stored prediction to its label feedback, over everything fed back since the "
                          "scorers started."),
        Panel("Promotions and rollbacks", (
            q("max by (version, previous) (synfinance_model_promotion_time) * 1000",
              "promoted {{version}} over {{previous}}"),
            q("max by (from_version, to_version, by) (synfinance_model_rollback_time) * 1000",
              "{{from_version}} rolled back to {{to_version}} ({{by}})")), "dateTimeAsIso", kind="stat",
              description="Pushed by `model promote`, `model rollback` and `model guard`.",
              fault="a promotion and a rollback"),
    )),
)


def dashboard_json(board: Dashboard) -> dict[str, object]:
    """The Grafana JSON model of one dashboard."""
    from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.dashboard import DataSourceRef

    source = DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
    built = (dashboard.Dashboard(board.title).uid(board.uid).tags(["synfinance"]).description(board.description)
             .refresh("30s").time("now-1h", "now").timezone("browser"))
    for panel in board.panels:
        made = (stat.Panel() if panel.kind == "stat" else timeseries.Panel()).title(panel.title)
        made = made.unit(panel.unit).datasource(source).height(8).span(8 if panel.kind == "timeseries" else 4)
        description = panel.description + (f" Has data only under a fault: {panel.fault}." if panel.fault else "")
        if description:
            made = made.description(description.strip())
        for i, query in enumerate(panel.queries):
            made = made.with_target(prometheus.Dataquery().expr(query.expr).legend_format(query.legend)
                                    .ref_id(chr(ord("A") + i)))
        built = built.with_panel(made)
    return dict(json.loads(json.dumps(built.build(), cls=JSONEncoder)))


def rendered() -> dict[str, str]:
    """File name -> JSON text of every dashboard (what `docs build` writes and `--check` compares); ValueError
    naming the panel when a query uses a name neither the catalogue nor a recording rule defines."""
    rules = recorded()
    wrong = [f"{b.uid} / {p.title}: {', '.join(undefined(q.expr, rules))}" for b in DASHBOARDS for p in b.panels
             for q in p.queries if undefined(q.expr, rules)]
    if wrong:
        raise ValueError("dashboard queries use undefined metrics: " + "; ".join(wrong))
    return {f"{b.uid}.json": json.dumps(dashboard_json(b), indent=2, sort_keys=True) + "\n" for b in DASHBOARDS}


def find(uid: str) -> Dashboard:
    for board in DASHBOARDS:
        if board.uid == uid:
            return board
    raise KeyError(uid)
