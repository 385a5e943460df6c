import { useId } from 'react';

export interface SegmentOption<T extends string> {
  readonly value: T;
  readonly label: string;
  /** Extra words for screen readers and the tooltip. */
  readonly description?: string;
}

interface SegmentedControlProps<T extends string> {
  readonly legend: string;
  readonly name: string;
  readonly options: readonly SegmentOption<T>[];
  readonly value: T;
  readonly onChange: (value: T) => void;
}

/**
 * A radio group drawn as a segmented switch. Native radios give the keyboard behaviour screen
 * reader users expect for free: Tab enters the group, the arrow keys move and select.
 */
export function SegmentedControl<T extends string>(props: SegmentedControlProps<T>) {
  const id = useId();
  return (
    <fieldset className="segmented">
      <legend className="segmented-legend">{props.legend}</legend>
      <div className="segmented-track">
        {props.options.map((option) => {
          const inputId = `${id}-${option.value}`;
          return (
            <span className="segmented-item" key={option.value}>
              <input
                type="radio"
                id={inputId}
                name={`${props.name}-${id}`}
                value={option.value}
                checked={props.value === option.value}
                onChange={() => props.onChange(option.value)}
                {...(option.description !== undefined
                  ? { 'aria-describedby': `${inputId}-desc` }
                  : {})}
              />
              <label htmlFor={inputId} title={option.description}>
                {option.label}
              </label>
              {option.description !== undefined && (
                <span id={`${inputId}-desc`} className="sr-only">
                  {option.description}
                </span>
              )}
            </span>
          );
        })}
      </div>
    </fieldset>
  );
}
