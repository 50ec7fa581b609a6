{#- A share as printed text, '65%': whole percent, ties to even (as Python's '{:.0%}' prints). -#}
{% macro percent_text(share) -%}
    (cast(round_even({{ share }} * 100, 0) as bigint) || '%')
{%- endmacro %}
