{#- A list var as a SQL list of string literals: ('a', 'b'). -#}
{% macro sql_string_list(values) -%}
    ({%- for value in values -%}'{{ value }}'{%- if not loop.last %}, {% endif -%}{%- endfor -%})
{%- endmacro %}
