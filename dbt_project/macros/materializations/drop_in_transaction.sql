{#-
  The statement that drops a model's old relation, for the project's materializations to put
  before the model's create in one `statement('main')` (they run it inside the transaction
  that creates the new relation, so a failed build rolls the drop back). The same SQL as
  dbt-duckdb's `duckdb__drop_relation` and the same relation-cache update as
  `adapter.drop_relation`, without that call's macro context: dbt builds a context of every
  macro it knows (~540) for each `adapter.drop_relation`, and dbt-duckdb's own view
  materialization made three such calls per view (two renames and a drop).
-#}
{% macro drop_in_transaction(existing_relation) -%}
  {%- if existing_relation is not none -%}
    {%- do adapter.cache_dropped(existing_relation) -%}
    drop {{ existing_relation.type }} if exists {{ existing_relation }} cascade;
  {%- endif -%}
{%- endmacro %}
