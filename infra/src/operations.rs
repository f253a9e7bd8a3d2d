//! Operations settings of template.yaml held to their promises: every alarm notifies, every
//! function, queue, stream consumer and SLO route has its alarms, the stage sets retention and
//! thresholds, the `LogLevel` parameter reaches Lambda's log filter, and the dashboard, CORS and
//! access-log settings are well formed. (Tests only: the local stack does not alarm.)

#[cfg(test)]
mod tests {
    use crate::access::Scenario;
    use crate::template::{Template, find_in_map, getatt_target, ref_target, scalar};
    use serde_yaml_ng::Value;
    use std::collections::BTreeSet;

    /// The seeds' latency SLOs (p99, ms) per route; the home page is the feed (and its trending).
    const SLOS: &[(&str, u64)] = &[
        ("GET /search", 300),
        ("GET /products/{product_id}", 200),
        ("POST /cart/items", 100),
        ("POST /checkout", 500),
        ("GET /feed", 400),
        ("GET /trending", 400),
    ];

    fn template() -> Template {
        Template::load_repo().expect("template.yaml parses")
    }

    fn props(v: &Value) -> &Value {
        v.get("Properties").expect("Properties")
    }

    fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
        v.get(key).and_then(Value::as_str)
    }

    /// The `(name, value)` dimensions of an alarm's single metric; a value is its text, or the
    /// target of its `!Ref`, or `X.Attr` of its `!GetAtt`.
    fn dimensions(alarm: &Value) -> Vec<(String, String)> {
        props(alarm)
            .get("Dimensions")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .map(|d| {
                let value = d.get("Value").expect("a dimension value");
                let value = ref_target(value)
                    .map(str::to_owned)
                    .or_else(|| getatt_target(value).map(|(r, a)| format!("{r}.{a}")))
                    .or_else(|| scalar(value))
                    .expect("a dimension value we can read");
                (
                    str_of(d, "Name").expect("a dimension name").to_owned(),
                    value,
                )
            })
            .collect()
    }

    /// Alarms on `namespace`/`metric` whose dimension `name` is `value`.
    fn alarms_on<'a>(
        t: &'a Template,
        namespace: &str,
        metric: &str,
        dimension: (&str, &str),
    ) -> Vec<(&'a str, &'a Value)> {
        t.resources_of_type("AWS::CloudWatch::Alarm")
            .filter(|(_, a)| {
                str_of(props(a), "Namespace") == Some(namespace)
                    && str_of(props(a), "MetricName") == Some(metric)
                    && dimensions(a)
                        .iter()
                        .any(|(n, v)| n == dimension.0 && v == dimension.1)
            })
            .collect()
    }

    /// Every alarm of the template notifies the alarm topic when it fires and when it recovers,
    /// and the topic has an e-mail subscription exactly when `AlarmEmail` is set.
    #[test]
    fn every_alarm_notifies_the_alarm_topic() {
        let t = template();
        let topic = t.resource("AlarmTopic").expect("AlarmTopic");
        assert_eq!(str_of(topic, "Type"), Some("AWS::SNS::Topic"));
        let mut count = 0;
        for (id, alarm) in t.resources_of_type("AWS::CloudWatch::Alarm") {
            count += 1;
            for key in ["AlarmActions", "OKActions"] {
                let actions: Vec<&str> = props(alarm)
                    .get(key)
                    .and_then(Value::as_sequence)
                    .unwrap_or_else(|| panic!("{id} has no {key}"))
                    .iter()
                    .filter_map(ref_target)
                    .collect();
                assert_eq!(actions, ["AlarmTopic"], "{id}.{key}");
            }
        }
        assert!(count >= 50, "only {count} alarms");

        let sub = t
            .resource("AlarmEmailSubscription")
            .expect("AlarmEmailSubscription");
        assert_eq!(str_of(sub, "Condition"), Some("HasAlarmEmail"));
        assert_eq!(str_of(props(sub), "Protocol"), Some("email"));
        assert_eq!(
            props(sub).get("Endpoint").and_then(ref_target),
            Some("AlarmEmail")
        );
        assert_eq!(
            props(sub).get("TopicArn").and_then(ref_target),
            Some("AlarmTopic")
        );
        assert_eq!(t.parameter_default("AlarmEmail").as_deref(), Some(""));
        let none = Scenario::new(&t, &[]).expect("defaults");
        let some = Scenario::new(&t, &[("AlarmEmail", "ops@example.com")]).expect("an e-mail");
        assert_eq!(none.conditions.get("HasAlarmEmail"), Some(&false));
        assert_eq!(some.conditions.get("HasAlarmEmail"), Some(&true));
    }

    /// Every function has an Errors and a Throttles alarm on its own name.
    #[test]
    fn every_function_has_errors_and_throttles_alarms() {
        let t = template();
        let functions = t.functions().expect("functions");
        assert!(functions.len() >= 16);
        for f in functions {
            for metric in ["Errors", "Throttles"] {
                assert!(
                    !alarms_on(&t, "AWS/Lambda", metric, ("FunctionName", &f.logical_id))
                        .is_empty(),
                    "{} has no {metric} alarm",
                    f.logical_id
                );
            }
        }
    }

    /// Every queue has an alarm on the age of its oldest message, every dead-letter queue (a
    /// redrive target or a stream's on-failure destination) one on its depth, and every function
    /// reading a stream one on its iterator age.
    #[test]
    fn every_queue_and_stream_consumer_has_its_alarms() {
        let t = template();
        let queues: Vec<&str> = t
            .resources_of_type("AWS::SQS::Queue")
            .map(|(id, _)| id)
            .collect();
        assert!(queues.len() >= 9);
        for q in &queues {
            let by_name = format!("{q}.QueueName");
            assert!(
                !alarms_on(
                    &t,
                    "AWS/SQS",
                    "ApproximateAgeOfOldestMessage",
                    ("QueueName", &by_name)
                )
                .is_empty(),
                "{q} has no age alarm"
            );
        }
        let text =
            serde_yaml_ng::to_string(t.root().get("Resources").expect("Resources")).expect("yaml");
        let mut dlqs = BTreeSet::new();
        for q in &queues {
            for key in ["deadLetterTargetArn", "Destination"] {
                if text.contains(&format!("{key}: !GetAtt {q}.Arn")) {
                    dlqs.insert(*q);
                }
            }
        }
        assert!(dlqs.len() >= 5, "{dlqs:?}");
        for q in dlqs {
            let by_name = format!("{q}.QueueName");
            let depth = alarms_on(
                &t,
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                ("QueueName", &by_name),
            );
            assert!(!depth.is_empty(), "{q} has no depth alarm");
        }
        let mut consumers = 0;
        for f in t.functions().expect("functions") {
            let reads_stream = t
                .resource(&f.logical_id)
                .map(props)
                .and_then(|p| p.get("Events"))
                .and_then(Value::as_mapping)
                .into_iter()
                .flatten()
                .any(|(_, e)| str_of(e, "Type") == Some("DynamoDB"));
            if reads_stream {
                consumers += 1;
                assert!(
                    !alarms_on(
                        &t,
                        "AWS/Lambda",
                        "IteratorAge",
                        ("FunctionName", &f.logical_id)
                    )
                    .is_empty(),
                    "{} reads a stream without an iterator age alarm",
                    f.logical_id
                );
            }
        }
        assert!(consumers >= 1);
    }

    /// Every SLO route is deployed, has detailed (per-route) metrics, and a p99 latency alarm at
    /// its SLO.
    #[test]
    fn every_slo_route_has_a_p99_latency_alarm() {
        let t = template();
        let routes: BTreeSet<String> = t
            .http_routes()
            .expect("routes")
            .into_iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        let api = t.resource("HttpApi").map(props).expect("HttpApi");
        assert_eq!(
            api.get("DefaultRouteSettings")
                .and_then(|s| s.get("DetailedMetricsEnabled"))
                .and_then(Value::as_bool),
            Some(true)
        );
        for (key, settings) in api
            .get("RouteSettings")
            .and_then(Value::as_mapping)
            .expect("RouteSettings")
        {
            assert_eq!(
                settings
                    .get("DetailedMetricsEnabled")
                    .and_then(Value::as_bool),
                Some(true),
                "{key:?}: a route's own settings replace the defaults"
            );
        }
        for (route, slo) in SLOS {
            assert!(routes.contains(*route), "{route} is not deployed");
            // An HTTP API's per-route metrics have the dimensions ApiId, Stage, Method, Resource.
            let (method, path) = route.split_once(' ').expect("METHOD /path");
            let alarms: Vec<_> = alarms_on(&t, "AWS/ApiGateway", "Latency", ("Resource", path))
                .into_iter()
                .filter(|(_, a)| dimensions(a).contains(&("Method".into(), method.into())))
                .collect();
            let [(id, alarm)] = alarms.as_slice() else {
                panic!("{route}: {} latency alarms", alarms.len());
            };
            let p = props(alarm);
            assert_eq!(str_of(p, "ExtendedStatistic"), Some("p99"), "{id}");
            assert_eq!(
                p.get("Threshold").and_then(scalar),
                Some(slo.to_string()),
                "{id}"
            );
            assert_eq!(
                str_of(p, "ComparisonOperator"),
                Some("GreaterThanThreshold")
            );
            let dims = dimensions(alarm);
            assert!(dims.contains(&("ApiId".into(), "HttpApi".into())), "{id}");
            assert!(dims.contains(&("Stage".into(), "$default".into())), "{id}");
        }
    }

    /// The API's 5xx rate, OpenSearch health and the seeds' InventoryOversell are alarmed; the
    /// oversell alarm fires on any oversell the code reports (its metric and dimension).
    #[test]
    fn api_search_and_inventory_alarms() {
        let t = template();
        let rate = t.resource("Api5xxRateAlarm").map(props).expect("5xx rate");
        let text = serde_yaml_ng::to_string(rate).expect("yaml");
        for needle in ["MetricName: 5xx", "MetricName: Count", "errors / requests"] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
        for metric in [
            "ClusterStatus.red",
            "ClusterStatus.yellow",
            "FreeStorageSpace",
        ] {
            assert!(
                !alarms_on(&t, "AWS/ES", metric, ("DomainName", "SearchDomain")).is_empty(),
                "{metric}"
            );
        }
        let oversell = alarms_on(
            &t,
            bazaar_domain::metrics::NAMESPACE,
            bazaar_domain::inventory::OVERSELL_METRIC,
            ("service", bazaar_domain::inventory::OVERSELL_SERVICE),
        );
        let [(_, alarm)] = oversell.as_slice() else {
            panic!("{} oversell alarms", oversell.len());
        };
        assert_eq!(
            props(alarm).get("Threshold").and_then(scalar).as_deref(),
            Some("0")
        );
        assert_eq!(
            str_of(props(alarm), "ComparisonOperator"),
            Some("GreaterThanThreshold")
        );
        assert_eq!(str_of(props(alarm), "Statistic"), Some("Sum"));
    }

    /// `LogLevel` reaches Lambda's application log filter (each level its upper-case name) and
    /// the functions' tracing filter (`LOG_LEVEL`).
    #[test]
    fn the_log_level_parameter_sets_the_application_log_level() {
        let t = template();
        let globals = t
            .root()
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .expect("Globals.Function");
        let level = globals
            .get("LoggingConfig")
            .and_then(|l| l.get("ApplicationLogLevel"))
            .expect("ApplicationLogLevel");
        let [map, key, attr] = find_in_map(level).expect("a FindInMap");
        assert_eq!(ref_target(key), Some("LogLevel"));
        assert_eq!(
            globals
                .get("Environment")
                .and_then(|e| e.get("Variables"))
                .and_then(|v| v.get("LOG_LEVEL"))
                .and_then(ref_target),
            Some("LogLevel")
        );
        let allowed = t
            .root()
            .get("Parameters")
            .and_then(|p| p.get("LogLevel"))
            .and_then(|p| p.get("AllowedValues"))
            .and_then(Value::as_sequence)
            .expect("LogLevel AllowedValues");
        assert_eq!(allowed.len(), 5);
        for value in allowed {
            let value = value.as_str().expect("a level");
            let mapped = t
                .root()
                .get("Mappings")
                .and_then(|m| m.get(map.as_str().expect("a map name")))
                .and_then(|m| m.get(value))
                .and_then(|m| m.get(attr.as_str().expect("an attribute")))
                .and_then(Value::as_str);
            assert_eq!(mapped, Some(value.to_uppercase().as_str()), "{value}");
        }
        assert_eq!(
            t.resolve_with_defaults(level).as_deref(),
            Some("INFO"),
            "the default level"
        );
    }

    /// The stage sets every log group's retention and the stage-dependent thresholds: every stage
    /// has every setting, retention is one CloudWatch accepts, and every function is tagged.
    #[test]
    fn the_stage_sets_retention_and_thresholds() {
        let t = template();
        let stages: Vec<&str> = t
            .root()
            .get("Parameters")
            .and_then(|p| p.get("Stage"))
            .and_then(|p| p.get("AllowedValues"))
            .and_then(Value::as_sequence)
            .expect("Stage AllowedValues")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(stages, ["dev", "prod"]);
        let settings = t
            .root()
            .get("Mappings")
            .and_then(|m| m.get("StageSettings"))
            .expect("StageSettings");
        let keys = |stage: &str| -> BTreeSet<String> {
            settings
                .get(stage)
                .and_then(Value::as_mapping)
                .unwrap_or_else(|| panic!("StageSettings.{stage}"))
                .keys()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(keys("dev"), keys("prod"));
        const RETENTION: &[u32] = &[
            1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
            2922, 3288, 3653,
        ];
        let mut groups = 0;
        for (id, group) in t.resources_of_type("AWS::Logs::LogGroup") {
            groups += 1;
            let retention = props(group).get("RetentionInDays").expect(id);
            let [map, stage, key] = find_in_map(retention).unwrap_or_else(|| panic!("{id}"));
            assert_eq!(map.as_str(), Some("StageSettings"), "{id}");
            assert_eq!(ref_target(stage), Some("Stage"), "{id}");
            for s in &stages {
                let days = settings
                    .get(*s)
                    .and_then(|m| m.get(key.as_str()?))
                    .and_then(scalar)
                    .and_then(|d| d.parse::<u32>().ok())
                    .unwrap_or_else(|| panic!("{id}: retention in {s}"));
                assert!(RETENTION.contains(&days), "{id}: {days} days in {s}");
            }
        }
        assert!(groups >= 17, "{groups} log groups");
        let tags = t
            .root()
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Tags"))
            .expect("Globals.Function.Tags");
        assert_eq!(tags.get("bazaar:stage").and_then(ref_target), Some("Stage"));
        for key in ["ApiUrl", "UserPoolId", "UserPoolClientId", "DashboardUrl"] {
            assert!(
                t.root().get("Outputs").and_then(|o| o.get(key)).is_some(),
                "output {key}"
            );
        }
    }

    /// Every queue source is capped by a parameter (a burst cannot starve the API) and the local
    /// stack resolves it to its default.
    #[test]
    fn every_queue_source_has_a_concurrency_cap_from_a_parameter() {
        let t = template();
        let mut sources = 0;
        for f in t.functions().expect("functions") {
            for (name, event) in t
                .resource(&f.logical_id)
                .map(props)
                .and_then(|p| p.get("Events"))
                .and_then(Value::as_mapping)
                .into_iter()
                .flatten()
            {
                if str_of(event, "Type") != Some("SQS") {
                    continue;
                }
                sources += 1;
                let cap = event
                    .get("Properties")
                    .and_then(|p| p.get("ScalingConfig"))
                    .and_then(|s| s.get("MaximumConcurrency"))
                    .unwrap_or_else(|| panic!("{}.{name:?}: no MaximumConcurrency", f.logical_id));
                let param = ref_target(cap).expect("a parameter");
                let n: u32 = t
                    .resolve_with_defaults(cap)
                    .and_then(|d| d.parse().ok())
                    .unwrap_or_else(|| panic!("{param} has a numeric default"));
                assert!((2..=1000).contains(&n), "{param}: {n}");
            }
        }
        assert!(sources >= 4);
    }

    /// The API lets the storefront's origin call it always, and the `CorsOrigins` too when set;
    /// access logs are JSON lines with the fields the runbook reads.
    #[test]
    fn cors_and_access_logs() {
        let t = template();
        let api = t.resource("HttpApi").map(props).expect("HttpApi");
        let origins = api
            .get("CorsConfiguration")
            .and_then(|c| c.get("AllowOrigins"))
            .expect("AllowOrigins");
        let Value::Tagged(tagged) = origins else {
            panic!("AllowOrigins is !If [HasCorsOrigins, …]");
        };
        let args = tagged.value.as_sequence().expect("!If arguments");
        assert_eq!(args[0].as_str(), Some("HasCorsOrigins"));
        let with = serde_yaml_ng::to_string(&args[1]).expect("yaml");
        let without = serde_yaml_ng::to_string(&args[2]).expect("yaml");
        assert!(
            with.contains("https://${WebDistribution.DomainName},${CorsOrigins}"),
            "{with}"
        );
        assert!(
            without.contains("https://${WebDistribution.DomainName}"),
            "{without}"
        );
        let none = Scenario::new(&t, &[]).expect("defaults");
        let some = Scenario::new(&t, &[("CorsOrigins", "https://a.example")]).expect("origins");
        assert_eq!(none.conditions.get("HasCorsOrigins"), Some(&false));
        assert_eq!(some.conditions.get("HasCorsOrigins"), Some(&true));

        let logs = api.get("AccessLogSettings").expect("AccessLogSettings");
        assert_eq!(
            logs.get("DestinationArn").and_then(getatt_target),
            Some(("ApiAccessLogGroup".to_owned(), "Arn".to_owned()))
        );
        let format = str_of(logs, "Format").expect("Format");
        // $context variables as API Gateway fills them in (numbers for status and latency).
        let line = regex::Regex::new(r"\$context\.[A-Za-z.]+")
            .expect("regex")
            .replace_all(format, |c: &regex::Captures| match &c[0] {
                "$context.status" | "$context.responseLatency" => "200".to_owned(),
                _ => "x".to_owned(),
            });
        let parsed: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        for field in [
            "requestId",
            "routeKey",
            "status",
            "latency",
            "integrationLatency",
            "ip",
        ] {
            assert!(parsed.get(field).is_some(), "{field} in {format}");
        }
    }

    /// The dashboard is valid JSON once CloudFormation substitutes it, refers only to resources
    /// and pseudo parameters of the template, and shows latency per SLO route, every function's
    /// errors, every queue's age and the seeds' business metrics the code emits.
    #[test]
    fn the_dashboard_shows_the_business_and_latency_metrics() {
        let t = template();
        let body = t
            .resource("Dashboard")
            .map(props)
            .and_then(|p| p.get("DashboardBody"))
            .expect("DashboardBody");
        let Value::Tagged(sub) = body else {
            panic!("DashboardBody is a !Sub");
        };
        assert_eq!(sub.tag, "Sub");
        let text = sub.value.as_str().expect("a !Sub string");
        let refs = regex::Regex::new(r"\$\{([A-Za-z0-9:.]+)\}").expect("regex");
        for c in refs.captures_iter(text) {
            let name = c[1].split('.').next().unwrap_or_default();
            assert!(
                name.starts_with("AWS::") || t.resource(name).is_some(),
                "the dashboard refers to {name}, not in the template"
            );
        }
        let json: serde_json::Value =
            serde_json::from_str(&refs.replace_all(text, "x")).expect("the body is JSON");
        let widgets = json["widgets"].as_array().expect("widgets");
        assert!(
            widgets
                .iter()
                .all(|w| w["properties"]["metrics"].is_array())
        );
        for (route, _) in SLOS {
            let (method, path) = route.split_once(' ').expect("METHOD /path");
            assert!(
                text.contains(&format!("\"Latency\",\"ApiId\",\"${{HttpApi}}\",\"Stage\",\"$default\",\"Method\",\"{method}\",\"Resource\",\"{path}\"")),
                "{route} latency"
            );
        }
        for f in t.functions().expect("functions") {
            let id = f.logical_id;
            assert!(
                text.contains(&format!("\"Errors\",\"FunctionName\",\"${{{id}}}\"")),
                "{id} errors"
            );
        }
        for (q, _) in t.resources_of_type("AWS::SQS::Queue") {
            assert!(
                text.contains(&format!(
                    "\"ApproximateAgeOfOldestMessage\",\"QueueName\",\"${{{q}.QueueName}}\""
                )),
                "{q} age"
            );
        }
        // The seeds' business metrics: orders, order value, reservations (holds), search latency,
        // the search circuit breaker and oversells, as the code emits them.
        for (metric, service) in [
            ("Checkouts", "checkout"),
            ("OrdersCreated", "checkout"),
            ("AuthorizedCents", "checkout"),
            ("HoldsPlaced", "add-to-cart"),
            ("HoldsRefused", "add-to-cart"),
            ("SearchLatency", "search"),
            ("SearchCircuitState", "search"),
            ("FeedLatency", "feed"),
            (
                bazaar_domain::inventory::OVERSELL_METRIC,
                bazaar_domain::inventory::OVERSELL_SERVICE,
            ),
        ] {
            assert!(
                text.contains(&format!(
                    "[\"Bazaar\",\"{metric}\",\"service\",\"{service}\""
                )),
                "{metric} of {service}"
            );
        }
        assert!(
            t.root()
                .get("Outputs")
                .and_then(|o| o.get("DashboardUrl"))
                .is_some()
        );
    }
}
