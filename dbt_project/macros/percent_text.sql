{#- A share in whole percent, rounded half up (52.5 -> 53, as a reader and a spreadsheet round;
    round_even gave 52), the float first cut to 9 decimals so 0.145 * 100 = 14.499999999999998
    counts as 14.5: the one rounding of a printed percentage in SQL (Python's is
    pipelines.disclosure.suppression.rounded_half_up). -#}
{% macro whole_percent(share) -%}
    cast(round(round(({{ share }}) * 100, 9), 0) as bigint)
{%- endmacro %}

{#- A share as printed text, '65%': whole percent, rounded half up (whole_percent). -#}
{% macro percent_text(share) -%}
    ({{ whole_percent(share) }} || '%')
{%- endmacro %}

{#- "84%", or "77% to 86%" where the lowest and highest differ once rounded. -#}
{% macro percent_range(lowest, highest) -%}
    case
        when {{ percent_text(lowest) }} = {{ percent_text(highest) }} then {{ percent_text(lowest) }}
        else {{ percent_text(lowest) }} || ' to ' || {{ percent_text(highest) }}
    end
{%- endmacro %}
