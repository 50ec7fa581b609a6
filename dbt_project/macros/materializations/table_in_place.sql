{#-
  The project's table materialization (it takes the place of dbt-duckdb's for every table
  model). dbt-duckdb builds a table under a temporary name, looks up its indexes, renames the
  old table to a backup, renames the new one into place, commits and drops the backup: nine
  statements for a rebuilt table with a contract (one here: the build, with the contract's
  column check in it, contract_in_build.sql), each one a round of dbt's Python and events, plus
  its foreign-key and index checks' Jinja, for ~110 tables a run. Here the old table is dropped and the new one
  created under its final name inside one transaction, in one statement
  (rebuild_in_transaction.sql): if the build fails, the rollback leaves the old table as it
  was, as the swap did.

  What dbt-duckdb's version handles and this one does not, because no model of the project
  uses it: Python models, foreign keys, indexes, partitioned_by / sorted_by, grants, hooks,
  persist_docs and DuckLake catalogs. A model that declares one of them fails to build here (checks below)
  rather than being built without it.
-#}
{% materialization table, adapter="duckdb", supported_languages=['sql'] %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- if config.get('partitioned_by') or config.get('sorted_by') or config.get('indexes') -%}
    {{ exceptions.raise_compiler_error(
      "table_in_place.sql builds plain tables: partitioned_by, sorted_by and indexes are not supported"
    ) }}
  {%- endif -%}
  {%- if 'foreign_key' in enforced_constraint_types() -%}
    {{ exceptions.raise_compiler_error("table_in_place.sql does not build tables with foreign keys") }}
  {%- endif -%}

  {{ rebuild_in_transaction(
    existing_relation,
    create_table_as(False, target_relation, compiled_code),
    column_checks_in_build_sql(target_relation)) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
