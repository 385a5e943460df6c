// Adds Testing Library's DOM matchers (toBeInTheDocument, toHaveTextContent, ...) to Jest's
// `expect` from @jest/globals, which is what native-ESM tests import.
import '@testing-library/jest-dom/jest-globals';
