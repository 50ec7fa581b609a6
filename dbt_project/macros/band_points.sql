{#- Points of a value in a banded scale: the points of the highest band whose minimum the
    value reaches, else 0. minimums ascending (validated in pipelines/settings.py). Used for
    the RFGV frequency, gravity and victims scores so the bands live only in settings.yaml. -#}
{% macro band_points(value_expression, minimums, points) -%}
    case
        {%- for i in range(minimums | length) | reverse %}
            when {{ value_expression }} >= {{ minimums[i] }} then {{ points[i] }}
        {%- endfor %}
        else 0
    end
{%- endmacro %}
