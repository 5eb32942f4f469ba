import React from "react";

// A compact PatternFly table from plain HTML (PatternFly's classes), that
// turns into labelled rows on narrow windows (pf-m-grid-md).
export function SimpleTable({ label, columns, rows, testId }) {
    return (
        <table className="pf-v5-c-table pf-m-compact pf-m-grid-md" role="grid" aria-label={label} data-test={testId}>
            <thead className="pf-v5-c-table__thead">
                <tr className="pf-v5-c-table__tr">
                    {columns.map(c => <th key={c} className="pf-v5-c-table__th" scope="col">{c}</th>)}
                </tr>
            </thead>
            <tbody className="pf-v5-c-table__tbody">
                {rows.map((cells, i) => (
                    <tr key={i} className="pf-v5-c-table__tr">
                        {cells.map((cell, j) => (
                            <td key={j} className="pf-v5-c-table__td" data-label={columns[j]}>{cell}</td>
                        ))}
                    </tr>
                ))}
            </tbody>
        </table>
    );
}
