{#- The age and the sex and age-band labels the demographic tables print (victims and perpetrators
    alike); the order of the labels is the demographic_categories seed. -#}
{% macro sex_label(sex) -%}
    case {{ sex }} when 'F' then 'Female' when 'M' then 'Male' else 'Other / not known' end
{%- endmacro %}

{#- An age past 115 (no one recorded in the UK has lived longer) is a mistyped year or a default
    birth date the settings do not list, not a person aged 65 and over. -#}
{% macro age_band_label(age) -%}
    case
        when {{ age }} between 0 and 17 then 'Under 18'
        when {{ age }} between 18 and 24 then '18–24'
        when {{ age }} between 25 and 34 then '25–34'
        when {{ age }} between 35 and 49 then '35–49'
        when {{ age }} between 50 and 64 then '50–64'
        when {{ age }} between 65 and 115 then '65 and over'
        else 'Not recorded'
    end
{%- endmacro %}

{#- Age in whole years on a day; none where the date of birth is one systems write when none is
    known (settings persons.placeholder_dates_of_birth, the dates person resolution ignores):
    such a person's age is "Not recorded", not the age the default date would give. -#}
{% macro age_at(date_of_birth, on_date) -%}
    {%- set placeholders = setting('persons')['placeholder_dates_of_birth'] -%}
    case
        {%- if placeholders %}
            when {{ date_of_birth }}::date in (
                {%- for day in placeholders %}'{{ day }}'::date{% if not loop.last %}, {% endif %}{% endfor -%}
            ) then null
        {%- endif %}
        else date_diff('year', {{ date_of_birth }}, {{ on_date }})
            - case when strftime({{ on_date }}, '%m%d') < strftime({{ date_of_birth }}, '%m%d') then 1 else 0 end
    end
{%- endmacro %}
