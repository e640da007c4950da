# bash completion for resdex(1)                            -*- shell-script -*-
#
# Install: source this file from ~/.bashrc, or copy it to
# /usr/share/bash-completion/completions/resdex.

# Print the values of the given words, one per line, that start with $1.
# Values containing blanks are shell-quoted unless the word being completed
# already starts with a quote (then readline supplies the closing quote).
_resdex_values()
{
    local cur=$1 quote='' value
    shift
    case $cur in
        \"*|\'*) quote=${cur:0:1}; cur=${cur:1} ;;
    esac
    for value in "$@"; do
        # Case-insensitive prefix match: resdex facet values are too.
        if [[ ${value,,} == "${cur,,}"* ]]; then
            if [[ -n $quote ]]; then
                printf '%s\n' "$value"
            else
                printf '%q\n' "$value"
            fi
        fi
    done
}

# Complete the value of option $prev (word $cur) into COMPREPLY.
# Returns 1 if $prev is not an option that takes a value.
_resdex_option_value()
{
    local IFS=$'\n'
    case $prev in
        --corpus)
            compopt -o filenames 2>/dev/null
            COMPREPLY=( $(compgen -d -- "$cur")
                        $(compgen -f -X '!*.jsonl' -- "$cur")
                        $(compgen -f -X '!*.jsonl.gz' -- "$cur") )
            ;;
        --index)
            compopt -o filenames 2>/dev/null
            COMPREPLY=( $(compgen -d -- "$cur") )
            ;;
        --batch|--queries)
            # JSONL query files ({"_id", "text"} lines).
            compopt -o filenames 2>/dev/null
            COMPREPLY=( $(compgen -d -- "$cur")
                        $(compgen -f -X '!*.jsonl' -- "$cur") )
            ;;
        --qrels|--run|--synonyms)
            # Judgments, TREC runs and synonyms files: any file.
            compopt -o filenames 2>/dev/null
            COMPREPLY=( $(compgen -f -- "$cur") )
            ;;
        --format)
            COMPREPLY=( $(compgen -W $'trec\njson' -- "$cur") )
            ;;
        --syntax)
            COMPREPLY=( $(compgen -W $'plain\nquery' -- "$cur") )
            ;;
        --weighting)
            COMPREPLY=( $(compgen -W $'bm25\nbm25+\npl2\ndlh\nlm' -- "$cur") )
            ;;
        --color)
            COMPREPLY=( $(compgen -W $'auto\nalways\nnever' -- "$cur") )
            ;;
        --institution)
            COMPREPLY=( $(_resdex_values "$cur" \
                "FU Berlin" "HU Berlin" "TU Berlin" "WIAS" "ZIB") )
            ;;
        --area)
            COMPREPLY=( $(_resdex_values "$cur" \
                "AI for Dynamical Systems" "Optimization for AI" \
                "AI-based Data Analysis" "Foundations of AI") )
            ;;
        --type)
            COMPREPLY=( $(compgen -W $'group\narea\nresearcher\ncourse\nabstract' -- "$cur") )
            ;;
        --limit|--offset|--shards|--threads|--port|--bind|--wait-timeout|--facet-limit|--depth|--tag|\
        --bm25-k1|--bm25-b|\
        --exact-weight|--title-weight|--proximity-weight|--proximity-window|\
        --feedback-docs|--feedback-terms|--feedback-weight)
            # A number (or a free-form run tag): nothing to offer.
            ;;
        *)
            return 1
            ;;
    esac
    return 0
}

_resdex()
{
    local cur prev words cword
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=''
    (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD

    local commands='index search show similar serve eval'
    local global_opts='--help -h --version'
    local ranking_opts='--weighting --bm25-k1 --bm25-b --exact-weight --title-weight'
    ranking_opts+=' --stopwords --proximity-weight --proximity-window'
    ranking_opts+=' --feedback-docs --feedback-terms --feedback-weight'
    local index_opts='--corpus --index --rebuild --shards --threads --wait --wait-timeout'
    index_opts+=' --synonyms --watch --json --quiet -q --help -h'
    local search_opts='--index --institution --area --type --limit --offset --json --color'
    search_opts+=' --no-facets --exact-counts --no-snippets --facet-limit'
    search_opts+=" --batch --format --syntax --tag $ranking_opts --help -h"
    local show_opts='--index --json --help -h'
    local similar_opts='--index --institution --area --type --limit --offset --json --color'
    similar_opts+=' --no-facets --exact-counts --no-snippets --facet-limit --weighting --help -h'
    local serve_opts='--index --port --bind --threads --help -h'
    local eval_opts='--index --queries --qrels --run --depth --syntax --per-query --json'
    eval_opts+=" $ranking_opts --help -h"
    # Options that take a value (the next word is not the subcommand).
    local value_opts='--corpus --index --institution --area --type --limit --offset --color'
    value_opts+=' --shards --threads --wait-timeout --facet-limit --batch --format --syntax --tag'
    value_opts+=' --queries --qrels --run --depth --port --bind --synonyms'
    value_opts+=" ${ranking_opts/ --stopwords/}"

    # --option=value: complete the value part.  With '=' in COMP_WORDBREAKS
    # (the default) readline splits it into "--option" "=" "value"; without,
    # it is one word and the replies must keep the "--option=" prefix.
    local eqprefix=''
    if [[ $cur == = && $cword -ge 1 ]]; then
        cur=''
    elif [[ $prev == = && $cword -ge 2 ]]; then
        prev=${words[cword-2]}
    elif [[ $cur == --*=* ]]; then
        prev=${cur%%=*}
        cur=${cur#*=}
        eqprefix=$prev=
    fi

    # Find the subcommand: the first word after "resdex" that is neither an
    # option nor the value of an option.
    local cmd='' i w
    for (( i = 1; i < cword; i++ )); do
        w=${words[i]}
        [[ $w == = || ${words[i-1]} == = ]] && continue
        case $w in
            --*=*) ;;
            -*) ;;
            *)
                if [[ " $value_opts " == *" ${words[i-1]} "* && $i -gt 1 ]]; then
                    continue
                fi
                cmd=$w
                break
                ;;
        esac
    done

    local IFS=$'\n'
    COMPREPLY=()

    if _resdex_option_value; then
        if [[ -n $eqprefix ]]; then
            COMPREPLY=( "${COMPREPLY[@]/#/$eqprefix}" )
        fi
        return 0
    fi

    local opts
    case $cmd in
        '')
            if [[ $cur == -* ]]; then
                COMPREPLY=( $(compgen -W "${global_opts// /$'\n'}" -- "$cur") )
            else
                COMPREPLY=( $(compgen -W "${commands// /$'\n'}" -- "$cur") )
            fi
            return 0
            ;;
        index)  opts=$index_opts ;;
        search) opts=$search_opts ;;
        show)   opts=$show_opts ;;
        similar) opts=$similar_opts ;;
        serve)  opts=$serve_opts ;;
        eval)   opts=$eval_opts ;;
        *)      return 0 ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=( $(compgen -W "${opts// /$'\n'}" -- "$cur") )
        return 0
    fi

    if [[ ( $cmd == show || $cmd == similar ) && -d corpus ]]; then
        # Document IDs: *.md files below ./corpus, without the suffix.
        local f ids=()
        while IFS= read -r f; do
            f=${f#corpus/}
            ids+=("${f%.md}")
        done < <(find corpus -name '*.md' -type f 2>/dev/null)
        COMPREPLY=( $(compgen -W "${ids[*]}" -- "$cur") )
    fi
    return 0
} &&
complete -F _resdex resdex

# ex: filetype=sh
