{#- Phrases of the profile's sentences about a change, as template text: placeholders name the
    figure columns of rpt_profile_sentences (`<figure>`, `<figure>_year_ago`,
    `<figure>_direction_year`, `<figure>_change_year_size`, ...), printed under disclosure
    control by pipelines/disclosure/sentences.py. Within 5 % either way a change is stable. -#}

{% macro change_words(change, stable_words) -%}
    case
        when abs({{ change }}) < 0.05 then '{{ stable_words }}'
        when {{ change }} > 0 then 'rose'
        when {{ change }} < 0 then 'fell'
    end
{%- endmacro %}

{#- "rose 12% on the same quarter last year (from 100 to 112)" or "was stable on the same
    quarter last year (100)". -#}
{% macro year_phrase(relation, figure) -%}
    case
        when abs({{ relation }}.{{ figure }}_change_year) < 0.05
            then '{{ "{" ~ figure ~ "_direction_year} on the same quarter last year ({" ~ figure ~ "_year_ago})" }}'
        else
            '{{ "{" ~ figure ~ "_direction_year} {" ~ figure ~ "_change_year_size} on the same quarter last year" }}'
            || '{{ " (from {" ~ figure ~ "_year_ago} to {" ~ figure ~ "})" }}'
    end
{%- endmacro %}

{#- "rose 12%" or "was stable", on the previous quarter. -#}
{% macro previous_phrase(relation, figure) -%}
    case
        when abs({{ relation }}.{{ figure }}_change_previous) < 0.05
            then '{{ "{" ~ figure ~ "_direction_previous}" }}'
        else '{{ "{" ~ figure ~ "_direction_previous} {" ~ figure ~ "_change_previous_size}" }}'
    end
{%- endmacro %}

{#- A sentence about a figure in two variants (the union branch of rpt_profile_sentences): its
    opening words and "; the number <year_phrase>.", then the opening words alone. -#}
{% macro with_year_phrase(sentence_kind, figure, opening) -%}
    select
        worded.quarter,
        '{{ sentence_kind }}' as sentence_kind,
        variants.variant_order,
        '{{ opening }}'
        || case
            when variants.with_year then '; the number ' || {{ year_phrase('worded', figure) }}
            else ''
        end
        || '.' as template
    from worded
    cross join (values (1, true), (2, false)) as variants (variant_order, with_year)
{%- endmacro %}

{#- A back-test horizon of N years in the workbook's one convention (years ahead counted from the
    current financial year, 0 = the current year: a total ending within N years of the last
    recorded month is the year N - 1 after the current one): "the current year (years ahead
    0)", "years ahead 2". -#}
{% macro years_ahead_words(horizon_years) -%}
    case
        when {{ horizon_years }} = 1 then 'the current year (years ahead 0)'
        else 'years ahead ' || ({{ horizon_years }} - 1)
    end
{%- endmacro %}
