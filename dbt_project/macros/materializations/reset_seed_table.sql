{#-
  How a seed's existing table is emptied before its rows are loaded again (dbt's seed
  materialization calls it for every seed of every run): dbt's own `reset_csv_table`, with the
  truncate sent as the node's statement rather than through `adapter.truncate_relation`, which
  builds dbt's whole macro context (~540 macros) for that one statement. The same SQL as dbt's
  `truncate_relation` macro.
-#}
{% macro duckdb__reset_csv_table(model, full_refresh, old_relation, agate_table) %}
  {% if full_refresh %}
    {{ return(default__reset_csv_table(model, full_refresh, old_relation, agate_table)) }}
  {% endif %}
  {% call statement('truncate_relation') -%}
    truncate table {{ old_relation }}
  {%- endcall %}
  {{ return("truncate table " ~ old_relation.render()) }}
{% endmacro %}
