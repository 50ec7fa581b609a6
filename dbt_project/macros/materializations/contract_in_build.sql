{#-
  An enforced contract's column check (a model's columns and types against its YAML), as SQL
  inside the statement that rebuilds the model, not as queries of dbt's own before it. dbt-duckdb's
  create_table_as and create_view_as render this macro's output just before the model's
  `create`, and table_in_place.sql / view_in_place.sql send it in their one statement
  (rebuild_in_transaction.sql), so a model whose columns break its contract fails its statement
  inside the rebuild's transaction and the old relation stays, as before.

  Why: dbt's check (`assert_columns_equivalent`) runs two DESCRIBE queries per contracted model,
  each a round of dbt's Python, events and Jinja (~100 models a run), to compare lists that
  DuckDB can compare itself. Here the same two DESCRIBEs (the model's query wrapped as dbt wraps
  it, and dbt's own `get_empty_schema_sql` of the declared columns) are joined by column name:
  any column missing on either side or with another type fails the statement, naming each one.
  That is what dbt compares (the number of columns, each name, each `name type`), compared on
  DuckDB's whole type names (a struct's as one type, where dbt compares its fields).

  A model with an sql_header is refused: dbt-duckdb runs a header as a query of its own before
  the DESCRIBE, which a single statement cannot do, and no model of the project declares one.
-#}
{% macro duckdb__get_assert_columns_equivalent(sql) -%}
  {%- set declared_columns = model['columns'] -%}
  {%- if not declared_columns -%}
    {{ exceptions.raise_contract_error([], []) }}
  {%- endif -%}
  {%- if config.get('sql_header') -%}
    {{ exceptions.raise_compiler_error("an enforced contract with an sql_header is not supported") }}
  {%- endif %}
select error('contract of {{ model.name }} not met (column: model type, declared type):' || string_agg(
    chr(10) || column_name || ': ' || coalesce(model_type, 'missing') || ', '
    || coalesce(declared_type, 'missing'), '' order by column_name))
from (
    select
        coalesce(built.column_name, declared.column_name) as column_name,
        built.column_type as model_type,
        declared.column_type as declared_type
    from (describe ({{ get_empty_subquery_sql(sql) }})) as built
    full join (describe ({{ get_empty_schema_sql(declared_columns) }})) as declared
        on built.column_name = declared.column_name
    where built.column_type is distinct from declared.column_type
) as mismatches
having count(*) > 0;
{%- endmacro %}
