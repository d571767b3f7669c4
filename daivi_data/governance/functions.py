"""Which functions a governed query may call: deny by default.

Two lists, one per layer:

- `check_function` (Athena SQL, as sqlglot parsed it): a function sqlglot knows
  is allowed unless it reads session, catalog or account state or makes a table;
  a name sqlglot does not know must be on `ATHENA_EXTRA_FUNCTIONS`. This gives the
  user a clear refusal on both engines, before Athena bills a scan.
- `DUCKDB_FUNCTIONS` (what DuckDB itself will execute, checked by the embedded
  engine on DuckDB's own parse of the final SQL): a positive list of scalar,
  aggregate and window functions. Nothing that reads a file, a setting, the
  environment, the catalog or the network is on it.
"""

from __future__ import annotations

from sqlglot import exp

from daivi_data.errors import AccessDenied

# sqlglot classes that read the session, the catalog, the account or the machine, or return tables.
_DENIED_CLASSES = tuple(getattr(exp, name) for name in (
    "CurrentAccount", "CurrentAccountName", "CurrentAvailableRoles", "CurrentCatalog", "CurrentClient",
    "CurrentDatabase", "CurrentIpAddress", "CurrentOrganizationName", "CurrentOrganizationUser", "CurrentRegion",
    "CurrentRole", "CurrentRoleType", "CurrentSchema", "CurrentSchemas", "CurrentSecondaryRoles", "CurrentSession",
    "CurrentStatement", "CurrentTransaction", "CurrentUser", "CurrentUserId", "CurrentVersion", "CurrentWarehouse",
    "SessionUser", "GenerateTable", "JSONTable", "XMLTable", "NextValueFor", "ReadCSV", "ReadParquet", "ToFile",
    "SplitToTable", "StrtokSplitToTable", "Seq1", "Seq2", "Seq4", "Seq8",
) if hasattr(exp, name))

# Trino/Athena functions sqlglot parses as anonymous calls, read-only and row-local.
ATHENA_EXTRA_FUNCTIONS = frozenset({
    "approx_distinct", "approx_most_frequent", "approx_set", "bitwise_and", "bitwise_or", "bitwise_xor", "cardinality",
    "checksum", "codepoint", "cosine_similarity", "date_format", "date_parse", "day_of_month", "day_of_week",
    "day_of_year", "dow", "doy", "e", "element_at", "format_number", "from_iso8601_date", "from_iso8601_timestamp",
    "geometric_mean", "hamming_distance", "human_readable_seconds", "is_finite", "is_infinite", "is_nan",
    "json_array_contains", "json_array_get", "json_array_length", "json_size", "last_day_of_month", "levenshtein_distance",
    "luhn_check", "map_concat", "map_entries", "map_filter", "map_from_entries", "map_keys", "map_values", "normalize",
    "parse_duration", "pi", "quarter", "regexp_count", "regexp_position", "regexp_split", "reverse", "soundex",
    "split_part", "split_to_map", "strpos", "to_iso8601", "to_milliseconds", "transform_keys", "transform_values",
    "truncate", "typeof", "url_decode", "url_encode", "url_extract_fragment", "url_extract_host", "url_extract_parameter",
    "url_extract_path", "url_extract_port", "url_extract_protocol", "url_extract_query", "week", "week_of_year",
    "word_stem", "year_of_week", "yow", "zip", "zip_with", "any_match", "all_match", "none_match", "array_join",
    "array_position", "array_remove", "array_sort", "arrays_overlap", "array_except", "array_intersect", "array_union",
    "array_max", "array_min", "contains", "contains_sequence", "count_if", "max_by", "min_by", "histogram", "map_agg",
    "multimap_agg", "kurtosis", "skewness", "regr_slope", "regr_intercept", "bool_and", "bool_or", "every",
    "arbitrary", "any_value", "listagg", "format", "lpad", "rpad", "ltrim", "rtrim", "trim", "chr", "concat_ws",
    "from_base", "to_base", "from_hex", "to_hex", "from_utf8", "to_utf8", "md5", "sha1", "sha256", "sha512",
    "xxhash64", "crc32", "ngrams", "sequence", "shuffle", "slice", "flatten", "filter", "reduce", "transform",
    "width_bucket", "wilson_interval_lower", "wilson_interval_upper", "cbrt", "degrees", "radians", "sign",
    "infinity", "nan", "from_unixtime", "to_unixtime", "at_timezone", "with_timezone", "timezone_hour",
    "timezone_minute", "current_timezone", "localtime", "localtimestamp", "millisecond", "second", "minute", "hour",
    "day", "month", "year", "yearweek", "date_add", "date_diff", "date_trunc", "to_date", "to_timestamp",
    "to_char", "try", "nullif", "coalesce", "greatest", "least", "if", "row_number", "rank", "dense_rank",
    "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
})


# Bare names DuckDB (and Trino) answer with session state when no column has that name.
SESSION_NAMES = frozenset({"user", "session_user", "current_user", "current_role", "system_user", "current_catalog",
                           "current_schema", "current_schemas", "current_database", "current_path"})


def check_session_name(node: exp.Column) -> None:
    """Raise AccessDenied for a bare column reference that would read session state (`SELECT session_user`)."""
    if not node.table and node.name.lower() in SESSION_NAMES:
        raise AccessDenied(f"{node.name} is not available in governed queries.")


def check_function(node: exp.Func) -> None:
    """Raise AccessDenied unless `node` is an allowed function call."""
    if isinstance(node, _DENIED_CLASSES):
        raise AccessDenied(f"Function {node.sql_name()}() is not available in governed queries.")
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        if name not in ATHENA_EXTRA_FUNCTIONS:
            raise AccessDenied(f"Function {node.name}() is not available in governed queries "
                               "(only scalar, aggregate and window functions are).")


# What DuckDB may execute, by the name its own parser gives (operators included).
DUCKDB_FUNCTIONS = frozenset({
    # operators
    "+", "-", "*", "/", "//", "%", "**", "^", "&", "|", "<<", ">>", "~", "!", "||", "~~", "!~~", "~~*", "!~~*",
    "~~~", "!~~~", "^@", "@>", "<@", "&&", "->>", "->", "array_extract", "list_extract", "struct_extract",
    "struct_pack", "row", "list_value", "array_value", "map", "map_from_entries", "list_slice", "array_slice",
    # comparison / logic / conditional
    "coalesce", "ifnull", "nullif", "greatest", "least", "if", "iff", "isnan", "isinf", "isfinite", "try",
    "error",  # raised by sqlglot's transpiled TRY_CAST helpers; only returns an error message
    # math
    "abs", "ceil", "ceiling", "floor", "round", "round_even", "trunc", "sign", "sqrt", "cbrt", "exp", "ln", "log",
    "log10", "log2", "pow", "power", "mod", "fmod", "pi", "degrees", "radians", "sin", "cos", "tan", "asin", "acos",
    "atan", "atan2", "greatest_common_divisor", "gcd", "lcm", "factorial", "even", "bit_count", "xor", "divide",
    "add", "subtract", "multiply", "width_bucket",
    # strings
    "lower", "upper", "lcase", "ucase", "length", "len", "strlen", "char_length", "character_length", "octet_length",
    "bit_length", "concat", "concat_ws", "substring", "substr", "left", "right", "lpad", "rpad", "trim", "ltrim",
    "rtrim", "replace", "reverse", "repeat", "position", "strpos", "instr", "starts_with", "ends_with", "suffix",
    "prefix", "contains", "split_part", "string_split", "str_split", "string_split_regex", "str_split_regex",
    "regexp_matches", "regexp_full_match", "regexp_replace", "regexp_extract", "regexp_extract_all",
    "regexp_split_to_array", "like_escape", "ilike_escape", "not_like_escape", "not_ilike_escape",
    "printf", "format", "chr", "ascii", "unicode", "ord", "md5", "sha1", "sha256", "hash", "levenshtein",
    "damerau_levenshtein", "hamming", "jaccard", "jaro_similarity", "jaro_winkler_similarity", "strip_accents",
    "translate", "to_hex", "hex", "from_hex", "unhex", "to_base64", "from_base64", "base64", "url_encode",
    "url_decode", "nfc_normalize", "encode", "decode", "array_to_string", "list_aggr", "string_to_array", "initcap",
    # dates and times
    "current_date", "today", "now", "current_timestamp", "get_current_timestamp", "get_current_time",
    "current_time", "date_trunc", "datetrunc", "date_part", "datepart", "date_diff", "datediff", "date_sub",
    "datesub", "date_add", "extract", "year", "month", "day", "dayofmonth", "dayofweek", "dayofyear", "isodow",
    "isoyear", "week", "weekofyear", "yearweek", "quarter", "hour", "minute", "second", "millisecond",
    "microsecond", "epoch", "epoch_ms", "epoch_us", "epoch_ns", "make_date", "make_time", "make_timestamp",
    "make_timestamptz", "strftime", "strptime", "try_strptime", "to_timestamp", "last_day", "dayname", "monthname",
    "age", "timezone", "time_bucket", "to_days", "to_hours", "to_minutes", "to_seconds", "to_milliseconds",
    "to_microseconds", "to_weeks", "to_months", "to_years", "to_quarters", "to_centuries", "to_decades",
    "to_millennia", "generate_series", "range", "date", "era", "random", "uuid", "gen_random_uuid",
    # lists, maps, structs, json values
    "list_contains", "list_has", "array_contains", "array_has", "list_position", "list_indexof", "array_position",
    "array_indexof", "array_length", "list_distinct", "array_distinct", "list_sort", "array_sort",
    "list_reverse_sort", "array_reverse_sort", "list_concat", "array_concat", "array_cat", "list_cat",
    "list_transform", "array_transform", "apply", "list_apply", "list_filter", "array_filter", "filter",
    "list_reduce", "array_reduce", "reduce", "list_has_any", "array_has_any", "list_has_all", "array_has_all",
    "list_intersect", "array_intersect", "flatten", "unnest", "list_zip", "array_zip", "list_aggregate",
    "array_aggregate", "list_max", "list_min", "list_sum", "list_avg", "list_count", "list_unique",
    "array_unique", "list_select", "list_where", "list_reverse", "array_reverse", "list_resize", "list_append",
    "array_append", "list_prepend", "array_prepend", "list_grade_up", "cardinality", "map_keys", "map_values",
    "map_entries", "map_extract", "map_extract_value", "element_at", "map_contains", "map_concat",
    "struct_insert", "json_extract", "json_extract_string", "json_extract_path",
    "json_extract_path_text", "json_value", "json_exists", "json_array_length", "json_type", "json_valid",
    "json_keys", "json_structure", "to_json", "json", "json_object", "json_array", "json_contains", "typeof",
    # casts (DuckDB spells some casts as functions)
    "try_cast", "cast",
    # aggregates
    "count", "count_star", "sum", "avg", "mean", "min", "max", "any_value", "arbitrary", "first", "last",
    "string_agg", "group_concat", "listagg", "list", "array_agg", "bool_and", "bool_or", "bit_and", "bit_or",
    "bit_xor", "approx_count_distinct", "approx_quantile", "quantile", "quantile_cont", "quantile_disc",
    "median", "mode", "percentile_cont", "percentile_disc", "stddev", "stddev_pop", "stddev_samp", "variance",
    "var_pop", "var_samp", "covar_pop", "covar_samp", "corr", "regr_slope", "regr_intercept", "regr_r2",
    "regr_count", "regr_avgx", "regr_avgy", "kurtosis", "kurtosis_pop", "skewness", "entropy", "product", "fsum",
    "sumkahan", "kahan_sum", "favg", "arg_max", "arg_min", "argmax", "argmin", "max_by", "min_by", "histogram",
    "count_if", "countif", "geomean", "geometric_mean", "bitstring_agg", "sum_no_overflow",
    # window functions
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value",
    "last_value", "nth_value", "rank_dense",
})
