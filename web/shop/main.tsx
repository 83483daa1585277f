import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { createApi } from '../shared/api.ts';
import { ApiProvider, createQueryClient } from '../shared/session.tsx';
import '../shared/styles.css';
import './shop.css';
import { App } from './App.tsx';

const api = createApi({ sessionKey: 'bazaar.shop.session' });
const client = createQueryClient();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ApiProvider api={api} client={client}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </ApiProvider>
  </StrictMode>,
);
