{#-
  A model's `column_checks` tests run inside the model's own node, in the statement that
  rebuilds it (table_in_place.sql, view_in_place.sql through rebuild_in_transaction.sql), when
  the invocation excludes those test nodes by name: the quarterly run's dbt steps do
  (pipelines/dbt_project.folded_column_checks picks them). Each test node costs dbt ~25 ms of
  CPU whatever its query (its own node context, Jinja compile, events, thread hand-offs); here
  the same query (the test's own macro, with its arguments from the manifest) runs after the
  rebuild's commit in the same statement, with no round of dbt's Python of its own.

  Same rules, same verdict: each test's query returns one row per failing rule (column, rule,
  failing rows: never a row's values), exactly the rows its test node would fail on (severity
  error, fail when any row). If any rule of any of the model's tests fails, DuckDB's error()
  fails the statement, so the model's node fails, its message listing every failing rule as
  `<test unique id>: model.column fails rule: N row(s)`, and the models after it are skipped,
  as a failing test skips them in `dbt build`; the table or view stays rebuilt (the check runs
  after the commit), as it does when its test fails. The Dagster step turns the node's outcome
  into each test's asset check result (pipelines/assets/transform.py).

  A hand-run `dbt build` (no such exclusion) runs the test nodes as before.
-#}
{% macro column_checks_in_build_sql(relation) -%}
  {%- set excluded = invocation_args_dict.get('exclude') or [] -%}
  {%- if excluded is string -%}{%- set excluded = excluded.split() -%}{%- endif -%}
  {%- set checks = [] -%}
  {%- if excluded -%}
    {%- for test in graph.nodes.values()
          if test.resource_type == 'test'
          and test.attached_node == model.unique_id
          and test.name in excluded
          and test.test_metadata and test.test_metadata.name == 'column_checks' -%}
      {%- set arguments = test.test_metadata.kwargs -%}
      {%- do checks.append({'test': test.unique_id, 'sql': test_column_checks(
            model=relation,
            columns=arguments.get('columns', {}),
            combinations=arguments.get('combinations', []))}) -%}
    {%- endfor -%}
  {%- endif -%}
  {%- if checks -%}
select error('column_checks failed:' || string_agg(
    chr(10) || test_id || ': ' || '{{ model.name }}.' || column_name || ' fails '
    || check_name || ': ' || failing_rows || ' row(s)', '' order by test_id, column_name, check_name))
from (
  {%- for check in checks %}
    select '{{ check.test }}' as test_id, column_name, check_name, failing_rows
    from ({{ check.sql }}) as failing_rules
    {{ 'union all' if not loop.last }}
  {%- endfor %}
) as failing_rules
having count(*) > 0
  {%- endif -%}
{%- endmacro %}
