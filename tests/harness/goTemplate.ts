/**
 * A small interpreter for the part of Go's text/template that the program's own injection
 * templates use, so tests can render them for each pod istiod might see instead of reading their
 * text. It follows Go's rules for what it supports (trim markers, truthiness, variable scope,
 * `with` rebinding the dot) and throws on anything else, so a template that outgrows it fails
 * loudly rather than rendering wrong.
 *
 * Supported: text; `{{ $v := x }}` and `{{ $v = x }}`; `if`, `with`, `else`, `end`; terms `.`,
 * `.Field.Path`, `$v`, string literals, `true`/`false`, parentheses; the functions `index`, `eq`
 * and `ne`.
 */

type Value = unknown;

type Node =
    | { kind: "text"; text: string }
    | { kind: "set"; variable: string; declare: boolean; expression: string }
    | { kind: "print"; expression: string }
    | { kind: "if" | "with"; expression: string; then: Node[]; otherwise: Node[] };

interface Token {
    text?: string;
    action?: string;
}

function tokenize(template: string): Token[] {
    const tokens: Token[] = [];
    const pattern = /\{\{(-\s)?([\s\S]*?)(\s-)?\}\}/g;
    let last = 0;
    for (let match = pattern.exec(template); match; match = pattern.exec(template)) {
        let before = template.slice(last, match.index);
        if (match[1]) before = before.replace(/\s+$/, "");
        tokens.push({ text: before }, { action: match[2].trim() });
        last = match.index + match[0].length;
        if (match[3]) {
            const rest = template.slice(last);
            last += rest.length - rest.replace(/^\s+/, "").length;
        }
    }
    tokens.push({ text: template.slice(last) });
    return tokens.filter((t) => t.action !== undefined || t.text !== "");
}

function parseNodes(tokens: Token[], position: { at: number }, closers: string[]): { nodes: Node[]; closer: string } {
    const nodes: Node[] = [];
    while (position.at < tokens.length) {
        const token = tokens[position.at++];
        if (token.action === undefined) {
            nodes.push({ kind: "text", text: token.text ?? "" });
            continue;
        }
        const action = token.action;
        if (closers.includes(action)) return { nodes, closer: action };
        const control = /^(if|with)\s+([\s\S]+)$/.exec(action);
        if (control) {
            const then = parseNodes(tokens, position, ["else", "end"]);
            const otherwise = then.closer === "else" ? parseNodes(tokens, position, ["end"]).nodes : [];
            nodes.push({ kind: control[1] as "if" | "with", expression: control[2], then: then.nodes, otherwise });
            continue;
        }
        const assignment = /^(\$\w+)\s*(:?=)\s*([\s\S]+)$/.exec(action);
        if (assignment) {
            nodes.push({ kind: "set", variable: assignment[1], declare: assignment[2] === ":=", expression: assignment[3] });
            continue;
        }
        if (/^(range|template|define|block|else\s|break|continue)\b/.test(action)) throw new Error(`unsupported action {{ ${action} }}`);
        nodes.push({ kind: "print", expression: action });
    }
    if (closers.length > 0) throw new Error(`missing {{ ${closers.join(" / ")} }}`);
    return { nodes, closer: "" };
}

/** Go's truth: false, 0, nil and empty strings, maps and slices are false. */
function truthy(value: Value): boolean {
    if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
    if (Array.isArray(value)) return value.length > 0;
    if (typeof value === "object") return Object.keys(value).length > 0;
    return true;
}

class Scope {
    private readonly frames: Map<string, Value>[] = [new Map()];

    push(): void {
        this.frames.push(new Map());
    }
    pop(): void {
        this.frames.pop();
    }
    declare(name: string, value: Value): void {
        this.frames[this.frames.length - 1].set(name, value);
    }
    assign(name: string, value: Value): void {
        const frame = [...this.frames].reverse().find((f) => f.has(name));
        if (!frame) throw new Error(`undefined variable ${name}`);
        frame.set(name, value);
    }
    get(name: string): Value {
        const frame = [...this.frames].reverse().find((f) => f.has(name));
        if (!frame) throw new Error(`undefined variable ${name}`);
        return frame.get(name);
    }
}

function splitTerms(expression: string): string[] {
    const terms: string[] = [];
    let index = 0;
    while (index < expression.length) {
        const char = expression[index];
        if (/\s/.test(char)) {
            index++;
        } else if (char === "(") {
            let depth = 0;
            let end = index;
            for (; end < expression.length; end++) {
                if (expression[end] === "(") depth++;
                if (expression[end] === ")" && --depth === 0) break;
            }
            terms.push(expression.slice(index, end + 1));
            index = end + 1;
        } else if (char === '"' || char === "`") {
            const end = expression.indexOf(char, index + 1);
            terms.push(expression.slice(index, end + 1));
            index = end + 1;
        } else {
            const end = expression.slice(index).search(/[\s()]/);
            const word = end === -1 ? expression.slice(index) : expression.slice(index, index + end);
            terms.push(word);
            index += word.length;
        }
    }
    return terms;
}

function field(value: Value, path: string[]): Value {
    return path.reduce<Value>((current, key) => {
        if (current === undefined || current === null || typeof current !== "object") throw new Error(`no field ${key} in ${String(current)}`);
        return (current as Record<string, Value>)[key];
    }, value);
}

function evaluateTerm(term: string, dot: Value, scope: Scope): Value {
    if (term.startsWith("(")) return evaluate(term.slice(1, -1), dot, scope);
    if (term.startsWith('"')) return JSON.parse(term);
    if (term.startsWith("`")) return term.slice(1, -1);
    if (term === "true" || term === "false") return term === "true";
    if (term === ".") return dot;
    if (term.startsWith(".")) return field(dot, term.slice(1).split("."));
    if (term.startsWith("$")) {
        const [name, ...path] = term.split(".");
        return field(scope.get(name), path);
    }
    throw new Error(`unsupported term ${term}`);
}

function evaluate(expression: string, dot: Value, scope: Scope): Value {
    if (expression.includes("|")) throw new Error(`pipelines are not supported: ${expression}`);
    const [head, ...rest] = splitTerms(expression);
    const args = () => rest.map((term) => evaluateTerm(term, dot, scope));
    switch (head) {
        case "index": {
            const [collection, ...keys] = args();
            // Go returns the zero value for a missing map key (and for a nil map).
            return keys.reduce<Value>((current, key) => {
                if (current === undefined || current === null) return undefined;
                return (current as Record<string, Value>)[String(key)];
            }, collection);
        }
        case "eq":
        case "ne": {
            const [left, right] = args();
            if (typeof left !== typeof right) throw new Error(`incompatible types for comparison: ${expression}`);
            return head === "eq" ? left === right : left !== right;
        }
        default:
            if (rest.length > 0) throw new Error(`unsupported function ${head}`);
            return evaluateTerm(head, dot, scope);
    }
}

function execute(nodes: Node[], dot: Value, scope: Scope): string {
    let out = "";
    for (const node of nodes) {
        switch (node.kind) {
            case "text":
                out += node.text;
                break;
            case "set": {
                const value = evaluate(node.expression, dot, scope);
                if (node.declare) scope.declare(node.variable, value);
                else scope.assign(node.variable, value);
                break;
            }
            case "print": {
                const value = evaluate(node.expression, dot, scope);
                out += value === undefined || value === null ? "<no value>" : String(value);
                break;
            }
            case "if":
            case "with": {
                const value = evaluate(node.expression, dot, scope);
                // Variables declared inside a control structure end with it.
                scope.push();
                if (truthy(value)) out += execute(node.then, node.kind === "with" ? value : dot, scope);
                else out += execute(node.otherwise, dot, scope);
                scope.pop();
                break;
            }
        }
    }
    return out;
}

/** Renders `template` with `data` as the dot. */
export function renderGoTemplate(template: string, data: Value): string {
    const { nodes } = parseNodes(tokenize(template), { at: 0 }, []);
    return execute(nodes, data, new Scope());
}
