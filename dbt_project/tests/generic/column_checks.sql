{#- Every column rule of one model in ONE scan of it: dbt's per-column tests (not_null, unique,
    accepted_values) and this project's accepted_range and unique_combination_of_columns each
    read the whole model again as a test node of its own (and a Dagster asset check of its own).
    Same rules, same pass or fail: a rule fails exactly when its per-column test would.

    columns: column name -> list of checks, each one of
        not_null
        unique                                   (nulls allowed, as dbt's unique)
        accepted_values: [a, b]                  (or {values: [...], quote: false}; nulls pass)
        accepted_range: {min_value: 0, max_value: 1}   (either bound may be left out; nulls pass)
    combinations: list of column lists, each unique together (nulls equal, as a GROUP BY).

    Returns one row per failing rule: the column, the rule and how many rows break it (for
    unique rules, the rows beyond the first of each repeated value). Never a row's values: they
    may be personal. pipelines/dbt_project.py re-runs a failing test to print these rows. -#}
{% test column_checks(model, columns={}, combinations=[]) %}
{%- set tallies = [] -%}
{%- for column_name, checks in columns.items() -%}
    {%- for check in checks -%}
        {%- if check is string -%}
            {%- set check_name = check -%}
            {%- set options = {} -%}
        {%- else -%}
            {%- set check_name = (check.keys() | list)[0] -%}
            {%- set options = check[check_name] -%}
        {%- endif -%}
        {%- if check_name == 'not_null' -%}
            {%- set tally = 'count(*) filter (where ' ~ column_name ~ ' is null)' -%}
            {%- set label = 'not_null' -%}
        {%- elif check_name == 'unique' -%}
            {%- set tally = 'count(' ~ column_name ~ ') - count(distinct ' ~ column_name ~ ')' -%}
            {%- set label = 'unique' -%}
        {%- elif check_name == 'accepted_values' -%}
            {%- set values = options if options is sequence and options is not mapping else options['values'] -%}
            {%- set quote = true if options is not mapping else options.get('quote', true) -%}
            {%- set listed = [] -%}
            {%- for value in values -%}
                {%- do listed.append("'" ~ (value | string).replace("'", "''") ~ "'" if quote else value | string) -%}
            {%- endfor -%}
            {%- set tally = 'count(*) filter (where ' ~ column_name ~ ' not in (' ~ listed | join(', ') ~ '))' -%}
            {%- set label = 'accepted_values' -%}
        {%- elif check_name == 'accepted_range' -%}
            {%- set bounds = [] -%}
            {%- if options.get('min_value') is not none -%}
                {%- do bounds.append(column_name ~ ' < ' ~ options['min_value']) -%}
            {%- endif -%}
            {%- if options.get('max_value') is not none -%}
                {%- do bounds.append(column_name ~ ' > ' ~ options['max_value']) -%}
            {%- endif -%}
            {%- if not bounds -%}
                {{ exceptions.raise_compiler_error('column_checks: accepted_range on ' ~ column_name ~ ' needs min_value or max_value') }}
            {%- endif -%}
            {%- set tally = 'count(*) filter (where ' ~ bounds | join(' or ') ~ ')' -%}
            {%- set label = 'accepted_range [' ~ options.get('min_value', '') ~ ', ' ~ options.get('max_value', '') ~ ']' -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error('column_checks: unknown check ' ~ check_name ~ ' on ' ~ column_name) }}
        {%- endif -%}
        {%- do tallies.append({'column': column_name, 'check': label, 'sql': tally}) -%}
    {%- endfor -%}
{%- endfor -%}
{%- for combination in combinations -%}
    {#- row(...) is one value per row: DISTINCT takes its null fields as equal, as GROUP BY does. -#}
    {%- do tallies.append({
        'column': combination | join(', '),
        'check': 'unique_combination',
        'sql': 'count(*) - count(distinct row(' ~ combination | join(', ') ~ '))',
    }) -%}
{%- endfor -%}
{%- if not tallies -%}
    {{ exceptions.raise_compiler_error('column_checks: no checks given') }}
{%- endif %}
with tallies as (
    select
    {%- for tally in tallies %}
        {{ tally.sql }} as check_{{ loop.index }}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ model }}
)
{%- for tally in tallies %}
select
    '{{ tally.column | replace("'", "''") }}' as column_name,
    '{{ tally.check | replace("'", "''") }}' as check_name,
    check_{{ loop.index }} as failing_rows
from tallies
where check_{{ loop.index }} > 0
{{ 'union all' if not loop.last }}
{%- endfor %}
{% endtest %}
