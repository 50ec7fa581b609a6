{#- One section of pipelines/config/settings.yaml, e.g. setting('repeat_victim')['window_months'].
    The pipeline passes every section as a var (pipelines/assets/transform.py); without --vars
    (sqlfluff lint, an ad hoc dbt run) the defaults of settings.yaml apply. -#}
{% macro setting(section) -%}
    {%- set value = var(section, none) -%}
    {%- if value is none -%}
        {%- set value = settings_defaults()[section] -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
