{#- A share as printed text, '65%': whole percent, ties to even (as Python's '{:.0%}' prints). -#}
{% macro percent_text(share) -%}
    (cast(round_even({{ share }} * 100, 0) as bigint) || '%')
{%- endmacro %}

{#- "84%", or "77% to 86%" where the lowest and highest differ once rounded. -#}
{% macro percent_range(lowest, highest) -%}
    case
        when {{ percent_text(lowest) }} = {{ percent_text(highest) }} then {{ percent_text(lowest) }}
        else {{ percent_text(lowest) }} || ' to ' || {{ percent_text(highest) }}
    end
{%- endmacro %}
