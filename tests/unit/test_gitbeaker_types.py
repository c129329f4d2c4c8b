"""The small TypeScript reader behind the GitLab request contract (gitbeaker_types.py)."""

from __future__ import annotations

from tests.fakes.gitbeaker_types import describe, load, parse, parse_type, snake

SAMPLE = """
type Camelize<T> = {
    [K in keyof T as CamelizeString<K>]: Camelize<T[K]>;
};

interface Base extends Record<string, unknown> {
    id: number;
    name: string;
}

interface Child extends Base {
    name: 'fixed';
    tags?: string[] | null;
    links: {
        self: string;
        nested: {
            deep: number;
        };
    };
    owner: MappedOmit<Base, 'name'>;
}

type Options = {
    sort?: 'asc' | 'desc';
    addLabels?: string;
};
"""


def test_declarations_members_and_inheritance() -> None:
    decls = parse(SAMPLE)
    assert sorted(decls.types) == ["Base", "Child", "Options"]  # the mapped type is skipped
    members = decls.members("Child")
    assert list(members) == ["id", "name", "tags", "links", "owner"]
    assert describe(members["name"].type) == "'fixed'"  # the child's redeclaration wins
    assert members["tags"].optional and describe(members["tags"].type) == "string[] | null"
    assert [m.name for m in members["links"].type.fields] == ["self", "nested"]
    assert list(decls.resolve(members["owner"].type) or {}) == ["id"]


def test_values_are_checked_against_the_types() -> None:
    decls = parse(SAMPLE)
    child = parse_type("Child")
    good = {"id": 1, "name": "fixed", "tags": None, "links": {"self": "u", "nested": {"deep": 2}}}
    assert decls.errors(child, good, "x") == []
    bad = {"id": "1", "name": "other", "links": {"nested": {"deep": "2"}}, "owner": {"id": True}}
    problems = decls.errors(child, bad, "x")
    assert len(problems) == 4, problems
    assert decls.errors(parse_type("number"), None, "x", nullable=True) == []
    sort = decls.members("Options")["sort"].type
    assert decls.query_errors(sort, ["asc"], "q") == []
    assert decls.query_errors(sort, ["up"], "q")
    assert decls.query_errors(parse_type("number[]"), ["1,2", "3"], "q") == []
    assert decls.query_errors(parse_type("number[]"), ["1,x"], "q")
    assert decls.query_errors(parse_type("boolean"), ["True"], "q") == []  # Grape takes it
    assert decls.query_errors(parse_type("boolean"), ["maybe"], "q")


def test_snake_case_as_gitbeaker_sends_it() -> None:
    assert snake("addLabels") == "add_labels"
    assert snake("mergeRequestToResolveDiscussionsOf") == "merge_request_to_resolve_discussions_of"
    assert snake("in") == "in"


def test_the_real_subset_parses() -> None:
    decls = load()
    issue_options = {snake(k) for k in decls.members("EditIssueOptions")}
    assert {"add_labels", "remove_labels", "state_event", "assignee_ids"} <= issue_options
    assert "created_at" in decls.members("UserSchema")  # inherited from SimpleUserSchema
    assert len(decls.types) >= 25
