{#-
  The project's view materialization (it takes the place of dbt's default for every view
  model). dbt's default creates the view under a temporary name, renames the old relation to a
  backup, renames the new one into place, commits and drops the backup: each rename and drop an
  `adapter` call that builds dbt's whole macro context. Here the old relation is dropped and the
  view created under its final name in one statement inside one transaction
  (rebuild_in_transaction.sql), as table_in_place.sql does for tables: a failed build (an
  enforced contract that does not match, an error in the SQL) leaves the old relation.

  Grants, hooks and persist_docs are not applied (no view of the project has any): a model that
  declares them fails to build here rather than being built without them.
-#}
{% materialization view, adapter="duckdb", supported_languages=['sql'] %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- if config.get('grants') -%}
    {{ exceptions.raise_compiler_error("view_in_place.sql does not apply grants") }}
  {%- endif -%}

  {{ rebuild_in_transaction(
    existing_relation,
    get_create_view_as_sql(target_relation, sql),
    column_checks_in_build_sql(target_relation)) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
