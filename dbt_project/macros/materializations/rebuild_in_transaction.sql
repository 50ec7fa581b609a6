{#-
  The one statement that rebuilds a table or view model (table_in_place.sql, view_in_place.sql):
  its own transaction, the old relation dropped and the new one created under its final name,
  then the commit, sent to DuckDB as one `statement('main')`. If any part fails, DuckDB aborts
  the transaction and dbt closes the node's cursor, which rolls it back: the old relation stays
  as it was. `checks_sql` (column_checks_in_build.sql: the model's column rules, failing the
  statement if any fails) runs after the commit, as the model's tests would run after it.

  Why not dbt's own calls: each statement dbt runs for a node is a round of dbt's Python and
  three events (~3 ms of CPU apiece, more than the SQL of most models here), and dbt's
  `adapter.drop_relation` / `rename_relation` each build dbt's whole macro context (every macro
  of dbt, dbt-duckdb and the project, ~540) for one statement. dbt's BEGIN, the drop and
  dbt's COMMIT were three statements and a macro context per rebuilt table; dbt's default view
  materialization made two renames and a drop per view. An enforced contract's column check
  is part of `create_sql` (contract_in_build.sql), so it runs inside the transaction too.

  The drop is the same SQL as dbt-duckdb's `duckdb__drop_relation`, with the same relation-cache
  update as `adapter.drop_relation`. Hooks and persist_docs would run outside this transaction,
  so a model that declares them fails to build here rather than being built differently.
-#}
{% macro rebuild_in_transaction(existing_relation, create_sql, checks_sql='') -%}
  {%- if pre_hooks or post_hooks or config.get('persist_docs') -%}
    {{ exceptions.raise_compiler_error(
      "the project's table and view materializations run no hooks and persist no docs"
    ) }}
  {%- endif -%}
  {%- if existing_relation is not none -%}
    {%- do adapter.cache_dropped(existing_relation) -%}
  {%- endif -%}
  {%- call statement('main', auto_begin=False) -%}
    begin transaction;
    {% if existing_relation is not none -%}
      drop {{ existing_relation.type }} if exists {{ existing_relation }} cascade;
    {%- endif %}
    {{ create_sql }}
    ;
    commit;
    {%- if checks_sql | trim %}
    {{ checks_sql | trim }};
    {%- endif %}
  {%- endcall -%}
{%- endmacro %}
