{#- The n-th label of spreadsheet columns (n from 1): A ... Z, AA ... ZZ, AAA ... ZZZ. -#}
{% macro spreadsheet_letters(n) -%}
    {%- set n = 'cast(' ~ n ~ ' as integer)' -%}
    case
        when {{ n }} <= 26 then chr(64 + {{ n }})
        when {{ n }} <= 702
            then chr(65 + ({{ n }} - 27) // 26) || chr(65 + ({{ n }} - 1) % 26)
        else
            chr(65 + ({{ n }} - 703) // 676)
            || chr(65 + (({{ n }} - 27) // 26) % 26)
            || chr(65 + ({{ n }} - 1) % 26)
    end
{%- endmacro %}
